"""Model files made to hurt: an alias bomb, deep nesting, a huge text. Each is refused at once,
with where and why, before anything is built (issue 14's exact inputs)."""

from __future__ import annotations

import time

import pytest

from leadscore import ModelFileError, parse_model
from leadscore.spec.yaml_limits import MAX_CHARACTERS


def alias_bomb() -> str:
    """Anchors nested eight deep, each a list of ten of the previous: 10**9 values."""
    lines = ["a: &a [" + ",".join(["x"] * 10) + "]"]
    for previous, name in zip("abcdefg", "bcdefgh", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 10) + "]")
    lines += ["name: [" + ",".join(["*h"] * 10) + "]", "fit: *h"]
    return "\n".join(lines) + "\n"


def refused(text: str) -> list[str]:
    started = time.perf_counter()
    with pytest.raises(ModelFileError) as caught:
        parse_model(text, "bomb.yaml")
    assert time.perf_counter() - started < 2, "a refusal must be quick"
    return [str(issue) for issue in caught.value.issues]


def test_an_alias_bomb_is_refused_where_it_expands() -> None:
    [issue] = refused(alias_bomb())
    # line 5 is "e: &e [*d,...]": a to d hold 12,344 values, e alone 111,111
    assert issue.startswith("bomb.yaml:5:")
    assert "expands to more than 100,000 values" in issue


def test_a_few_aliases_are_still_fine() -> None:
    text = (
        "name: m\n"
        "x-titles: &titles [ceo, cto]\n"
        "fit:\n"
        "  - {name: exec, points: 5, when: [{type: in, field: title, values: *titles}]}\n"
    )
    with pytest.raises(ModelFileError) as caught:  # x-titles is not a model field
        parse_model(text, "m.yaml")
    assert [i.path for i in caught.value.issues] == ["x-titles"]


def test_an_alias_inside_its_own_anchor_is_refused() -> None:
    assert refused("name: &n [*n]\n") == ["bomb.yaml:1:11: alias *n refers to its own anchor"]


@pytest.mark.parametrize("opening", ["[", "{a: "])
def test_deep_nesting_is_refused_without_recursion(opening: str) -> None:
    [issue] = refused("name: m\nfit: " + opening * 200_000)
    assert issue.startswith("bomb.yaml:2:")
    assert "nested too deeply (more than 64 levels)" in issue


def test_block_style_nesting_is_bounded_too() -> None:
    text = "name: m\nx:\n" + "".join("  " * depth + f"k{depth}:\n" for depth in range(1, 80))
    [issue] = refused(text)
    assert "nested too deeply" in issue


def test_a_huge_text_is_refused_by_its_length() -> None:
    [issue] = refused("name: m\n" + "#" * MAX_CHARACTERS)
    assert issue == "bomb.yaml: is too long (1,000,008 characters; at most 1,000,000)"
