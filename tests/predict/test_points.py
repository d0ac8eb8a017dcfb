"""Learned points: a model file in the normal format, whose points the engine reproduces."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadscore.app.project import Project
from leadscore.errors import InputError
from leadscore.predict import behaviour, history
from leadscore.predict.dataset import Dataset
from leadscore.predict.point_scores import point_scores
from leadscore.predict.points import learn_points
from leadscore.spec.loader import parse_model
from leadscore.spec.model import EngagementRule
from leadscore.store.ingest import import_events, import_leads, import_outcomes
from tests.predict import synthetic


def _table(rows: int = 3000, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    plan = rng.choice(np.array(["pro", "free", "trial"]), rows)
    size = rng.integers(1, 1000, rows).astype(float)
    rate = np.where(plan == "pro", 0.6, 0.1) + np.where(size > 500, 0.2, 0.0)
    mash = rng.random(rows) < 0.15  # keyboard mash in the name: never converts
    rate = np.where(mash, 0.0, rate)
    label = (rng.random(rows) < rate).astype(np.int8)
    names = [f"asdfgh{i}" if m else f"Maria{i}" for i, m in enumerate(mash)]
    return Dataset(
        ids=[str(i) for i in range(rows)],
        raw=pd.DataFrame({"plan": plan, "size": size, "first_name": names}, dtype=object),
        behaviour=pd.DataFrame(index=range(rows)),
        label=label,
        order=np.arange(rows),
        timed=False,
        source="table",
    )


def test_learned_points_read_the_signal_and_the_engine_runs_them() -> None:
    data = _table()
    learned = learn_points(data, name="learned", max_rules=6)
    assert learned.rules <= 6
    assert parse_model(learned.text).name == "learned"  # the normal model format
    model = learned.model
    # pro converts six times as often as the rest: its rule gives points, more than any other
    # plan rule; large companies (over 500) get more than small ones
    plan_points = {
        tuple(r.when[0].values): r.points for r in model.fit if r.when[0].field == "plan"
    }
    pro = next(p for levels, p in plan_points.items() if "pro" in levels and len(levels) == 1)
    assert pro > 0 and all(pro > p for levels, p in plan_points.items() if "pro" not in levels)
    (made_up,) = [r for r in model.fit if r.when[0].type == "gibberish"]
    assert made_up.points < 0
    # the engine's score of each row is the sum of the points of the rules whose predicates
    # hold, judged here by the predicates themselves
    scores, tiers = point_scores(model, data)
    for row in range(0, len(data.label), 97):
        values = data.raw.iloc[row].to_dict()
        expected = sum(
            rule.points for rule in model.fit if all(p.test(values[p.field]) for p in rule.when)
        )
        assert scores[row] == pytest.approx(expected)
    # tiers come from the data: about a tenth of the rows are hot
    assert 0.05 < tiers.count("hot") / len(tiers) < 0.3


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    root = tmp_path_factory.mktemp("company")
    files = synthetic.write(root, leads=800)
    project = Project.init(root / "project")
    with project.store() as store:
        import_leads(store, files.leads)
        import_events(store, files.events)
        import_outcomes(store, files.outcomes)
    yield project


def test_behaviour_rules_count_the_same_days_as_the_features(project: Project) -> None:
    with project.store() as store:
        end = history.data_end(store)
        assert end is not None
        last = (end - 30 * history.DAY_US) // history.DAY_US * history.DAY_US
        window = history.Window(last, 4, 14, 30)
        data = history.snapshots(store, window)
        kinds = behaviour.event_kinds(store.events_arrow(), last)
        learned = learn_points(data, kinds=kinds)
        engagement = learned.model.engagement
        assert engagement, "the synthetic company's converters attend webinars"
        scores, _ = point_scores(learned.model, data, store)
    fit = np.zeros(len(data.label))
    for row in range(len(data.label)):
        values = data.raw.iloc[row].to_dict()
        fit[row] = sum(
            r.points for r in learned.model.fit if all(p.test(values.get(p.field)) for p in r.when)
        )
    expected = fit.copy()
    names = behaviour.behaviour_names(kinds)
    for rule in engagement:
        kind = rule.event if rule.type == "track" else f"page {rule.where[0].value}"
        days = None if rule.within_days is None else rule.within_days + 1
        column = names[f"k{kinds.index(kind)}_{days or 'all'}"]
        counts = data.behaviour[column].to_numpy(float)
        assert rule.cap is not None
        expected += np.sign(rule.points) * np.minimum(counts * abs(rule.points), rule.cap)
    assert np.allclose(scores, expected, atol=0.002 * (1 + len(engagement)))


def test_learned_points_rank_converters_first(project: Project) -> None:
    with project.store() as store:
        end = history.data_end(store)
        assert end is not None
        last = (end - 30 * history.DAY_US) // history.DAY_US * history.DAY_US
        data = history.snapshots(store, history.Window(last, 4, 14, 30))
        kinds = behaviour.event_kinds(store.events_arrow(), last)
        learned = learn_points(data, kinds=kinds)
        scores, _ = point_scores(learned.model, data, store)
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(data.label, scores) > 0.7


def test_an_unwritable_dataset_says_so(tmp_path: Path) -> None:
    flat = _table(100)
    flat = Dataset(
        ids=flat.ids,
        raw=pd.DataFrame({"plan": ["pro"] * 100}, dtype=object),
        behaviour=flat.behaviour,
        label=flat.label,
        order=flat.order,
        timed=False,
        source="flat",
    )
    with pytest.raises(InputError, match="flat: no attribute or behaviour varies"):
        learn_points(flat)


def test_names_companies_and_ids_never_become_rules() -> None:
    """Sofia and Li convert more in this sample, and so does Acme: a person would never
    accept "first_name is Sofia +5" or a list of companies as a rule. The plan's signal stays;
    whether a name looks made up may still count."""
    rng = np.random.default_rng(5)
    rows = 4000
    plan = rng.choice(np.array(["pro", "free"]), rows)
    first = rng.choice(np.array(["Sofia", "Li", "Ann", "Bo", "Kim"]), rows)
    company = rng.choice(np.array(["Acme", "Globex", "Initech", "Umbrella"]), rows)
    rate = np.where(plan == "pro", 0.4, 0.1) + np.isin(first, ["Sofia", "Li"]) * 0.25
    rate += (company == "Acme") * 0.2
    label = (rng.random(rows) < rate).astype(np.int8)
    raw = pd.DataFrame(
        {"plan": plan, "first_name": first, "Company Name": company,
         "crm_id": rng.choice(np.array(["A1", "B2", "C3"]), rows)},
        dtype=object,
    )  # fmt: skip
    data = Dataset(
        ids=[str(i) for i in range(rows)],
        raw=raw,
        behaviour=pd.DataFrame(index=range(rows)),
        label=label,
        order=np.arange(rows),
        timed=False,
        source="table",
    )
    model = learn_points(data, max_rules=8).model
    fields = {p.field for rule in model.fit for p in rule.when}
    assert "plan" in fields
    for rule in model.fit:
        for predicate in rule.when:
            if predicate.field in ("first_name", "Company Name", "crm_id"):
                assert predicate.type == "gibberish", rule.name


def _worth(rules: list[EngagementRule], count: float) -> float:
    """The points of ``count`` events under the rules, as the model file says (by hand)."""
    total = 0.0
    for rule in rules:
        assert rule.cap is not None
        total += float(np.sign(rule.points) * min(count * abs(rule.points), rule.cap))
    return total


def test_the_first_events_of_a_kind_are_worth_more_than_later_ones() -> None:
    # the chance of converting grows with the log of the lessons watched: the first lesson
    # says more than the tenth, which one rule of points per event cannot say
    rng = np.random.default_rng(4)
    rows = 20_000
    lessons = np.floor(rng.exponential(4.0, rows))
    label = (rng.random(rows) < 1 / (1 + np.exp(3.5 - 1.2 * np.log1p(lessons)))).astype(np.int8)
    kinds = ["Lesson Watched"]
    column = behaviour.behaviour_names(kinds)["k0_all"]
    data = Dataset(
        ids=[str(i) for i in range(rows)],
        raw=pd.DataFrame(index=range(rows)),
        behaviour=pd.DataFrame({column: lessons}),
        label=label,
        order=np.arange(rows),
        timed=False,
        source="lessons",
    )
    learned = learn_points(data, kinds=kinds)
    rules = list(learned.model.engagement)
    assert len(rules) >= 2 and all(abs(r.cap or 0) >= 0.5 for r in rules)
    assert len({r.name for r in rules}) == len(rules)
    first, fifth, tenth = (_worth(rules, n) - _worth(rules, n - 1) for n in (1, 5, 10))
    assert first > fifth >= tenth >= 0
    # the log-odds the points stand for, 10 points a doubling, against the truth's
    truth = (1.2 * np.log1p(10) - 1.2 * np.log1p(1)) * 10 / np.log(2)
    assert _worth(rules, 10) - _worth(rules, 1) == pytest.approx(truth, rel=0.35)
