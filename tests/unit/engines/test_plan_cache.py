"""A model object is compiled once; another object, even an equal one, gets its own plan."""

from __future__ import annotations

from leadscore import compile_plan, default_model
from leadscore.engines import plan as plan_module


def test_a_model_is_compiled_once_per_object() -> None:
    model = default_model()
    first = compile_plan(model)
    assert compile_plan(model) is first
    twin = model.model_copy(deep=True)
    # a plan refers to its model's own condition objects (by id): a twin needs its own
    assert compile_plan(twin) is not first
    assert compile_plan(twin) is compile_plan(twin)


def test_the_cache_is_bounded() -> None:
    models = [default_model() for _ in range(plan_module._COMPILED_MAX + 5)]
    for model in models:
        compile_plan(model)
    assert len(plan_module._COMPILED) == plan_module._COMPILED_MAX
