"""Grouping the leads the trees cannot tell apart (``predict.tree_paths``): every group's one
TreeSHAP pass must give each of its rows exactly what LightGBM gives that row on its own."""

from __future__ import annotations

from functools import cache

import lightgbm as lgb
import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from leadscore.predict.tree_paths import ZERO, same_paths, split_points
from leadscore.predict.trees import train
from tests.predict.test_trees import _data

COLOURS = ["red", "blue", "green"]


@cache
def _booster() -> lgb.Booster:
    """Trees on a number with missing values and zeros, a category and a feature they
    never split on (a constant)."""
    rng = np.random.default_rng(0)
    rows = 4000
    x = rng.normal(size=rows)
    x[::7] = 0.0
    x[::11] = np.nan
    colour = rng.choice(COLOURS, rows)
    logit = np.nan_to_num(2 * x, nan=1.0) + np.where(colour == "red", 1.0, -0.5)
    label = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = _frame(x, colour, np.ones(rows))
    params = {"objective": "binary", "num_leaves": 7, "verbose": -1, "num_threads": 1}
    return lgb.train(params, lgb.Dataset(frame, label), num_boost_round=20)


def _frame(x: np.ndarray, colour: np.ndarray | list[str | None], flat: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": np.asarray(x, float),
            "colour": pd.Categorical(colour, categories=COLOURS),
            "flat": np.asarray(flat, float),
        }
    )


def _oracle_equal(booster: lgb.Booster, frame: pd.DataFrame) -> None:
    first, inverse = same_paths(booster, frame)
    every = booster.predict(frame, pred_contrib=True)
    grouped = booster.predict(frame.iloc[first], pred_contrib=True)[inverse]
    assert np.array_equal(every, grouped)


def test_values_between_the_same_thresholds_share_a_group() -> None:
    booster = _booster()
    splits = split_points(booster)
    assert set(splits) == {0, 1}  # "flat" never splits; "colour" is categorical
    assert splits[1] is None
    thresholds = splits[0]
    assert thresholds is not None and len(thresholds) >= 3
    low, high = sorted(t for t in thresholds if t > 0.01)[:2]  # no threshold between
    inside = [np.nextafter(low, np.inf), (low + high) / 2, high]  # a threshold goes left
    outside = [low, np.nextafter(high, np.inf)]
    x = np.array([*inside, *outside, np.nan, np.nan, 0.0])
    frame = _frame(x, ["red"] * len(x), np.arange(len(x)))  # "flat" differs, unread
    _, group = same_paths(booster, frame)
    assert group[0] == group[1] == group[2]
    assert len({group[0], group[3], group[4], group[5], group[7]}) == 5
    assert group[5] == group[6]  # missing
    _oracle_equal(booster, frame)


@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.sampled_from([np.nan, 0.0, -0.0, ZERO, -ZERO, 1e-36]),
                st.floats(-4, 4),
                st.integers(0, 30).map(lambda i: float(i) / 10 - 1.5),
            ),
            st.sampled_from([*COLOURS, None]),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_each_row_gets_what_lightgbm_gives_it_alone(rows: list[tuple[float, str | None]]) -> None:
    booster = _booster()
    thresholds = split_points(booster)[0]
    assert thresholds is not None
    # values exactly on a threshold, and the doubles either side of it
    edges = [np.nextafter(t, d) for t in thresholds[:4] for d in (-np.inf, np.inf)]
    x = np.array([value for value, _ in rows] + [*thresholds[:4], *edges])
    colour = [c for _, c in rows] + ["blue"] * (len(x) - len(rows))
    _oracle_equal(booster, _frame(x, colour, np.zeros(len(x))))


def test_repeated_rows_of_a_trained_model_are_explained_alike() -> None:
    data, _ = _data()
    model, _ = train(data, seed=1)
    rows = data.subset(np.r_[np.arange(10), np.arange(10), [0, 25]])
    frame = model.frame(rows)
    first, inverse = same_paths(model.booster, frame)
    assert len(first) <= 11 and list(inverse[10:20]) == list(inverse[:10])
    shares, bias = model.contributions(frame)
    # the oracle: LightGBM's TreeSHAP on every row (and the regression's own shares)
    every = model.booster.predict(
        frame, num_iteration=model.booster.best_iteration, pred_contrib=True
    )
    share = model.trees_share
    expected_shares, expected_bias = share * every[:, :-1], share * every[:, -1]
    if model.linear is not None and share < 1.0:
        linear_shares, linear_bias = model.linear.contributions(frame)
        expected_shares += (1 - share) * linear_shares
        expected_bias += (1 - share) * linear_bias
    assert np.allclose(shares, expected_shares) and np.allclose(bias, expected_bias)
