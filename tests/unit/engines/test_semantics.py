"""Hand-computed checks of the arithmetic every engine shares."""

from __future__ import annotations

import pytest

from leadscore.engines import semantics as s
from leadscore.spec.decay import HalfLife, Linear, NoDecay, Step, Steps

# PRODUCT.md / issue: full points up to 30 days, 0.75 up to 180 days, half beyond.
BRIEF = Steps(
    type="steps",
    steps=[Step(max_age_days=30, factor=1.0), Step(max_age_days=180, factor=0.75)],
    otherwise=0.5,
)


@pytest.mark.parametrize(
    ("age", "ppm"),
    [
        (0, 1_000_000),
        (30, 1_000_000),
        (31, 750_000),
        (180, 750_000),
        (181, 500_000),
        (3650, 500_000),
    ],
)
def test_brief_step_decay_boundaries(age: int, ppm: int) -> None:
    assert s.decay_ppm(BRIEF, age) == ppm


def test_half_life_halves_every_period() -> None:
    decay = HalfLife(type="half_life", days=7)
    assert s.decay_ppm(decay, 0) == 1_000_000
    assert s.decay_ppm(decay, 7) == 500_000
    assert s.decay_ppm(decay, 14) == 250_000


def test_linear_drops_per_full_period_down_to_floor() -> None:
    decay = Linear(type="linear", period_days=30, rate=0.25, floor=0.2)
    assert [s.decay_ppm(decay, age) for age in (0, 29, 30, 60, 90, 120, 500)] == [
        1_000_000,
        1_000_000,
        750_000,
        500_000,
        250_000,
        200_000,
        200_000,
    ]


def test_no_decay_is_full_points() -> None:
    assert s.decay_ppm(NoDecay(type="none"), 10_000) == 1_000_000
    assert s.decay_ppm(None, 10_000) == 1_000_000


def test_apply_factor_rounds_half_away_from_zero() -> None:
    assert s.apply_factor(10_000, 500_000) == 5_000  # 10 points at half -> 5
    assert s.apply_factor(1, 500_000) == 1  # 0.5 milli rounds up
    assert s.apply_factor(-1, 500_000) == -1  # and symmetrically down
    assert s.apply_factor(3, 250_000) == 1  # 0.75 -> 1
    assert s.apply_factor(-3, 100_000) == 0  # -0.3 -> 0


def test_caps_limit_magnitude_both_ways() -> None:
    assert s.clamp(40_000, 30_000) == 30_000
    assert s.clamp(-40_000, 30_000) == -30_000
    assert s.clamp(12, None) == 12
    assert s.day_points(15, 1_000, 10_000) == 10_000  # 15 views at +1, at most 10 a day


def test_band_lookup_is_inclusive_at_min() -> None:
    tiers = (("hot", 50_000.0), ("warm", 19_000.0), ("cold", None))
    assert s.band(50_000, tiers) == "hot"
    assert s.band(49_999, tiers) == "warm"
    assert s.band(19_000, tiers) == "warm"
    assert s.band(18_999, tiers) == "cold"
    assert s.band(-5, (("hot", 50_000.0),)) is None


def test_day_of_uses_utc_calendar_days() -> None:
    assert s.day_of(0) == 0
    assert s.day_of(s.DAY_US - 1) == 0
    assert s.day_of(s.DAY_US) == 1
