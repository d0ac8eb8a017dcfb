"""``semantics``' integer arithmetic written over numpy arrays, for the batch engine.

Each helper is the array form of one scalar definition in ``semantics`` (clamps, day sums,
bands, bounds); the property tests hold the two to each other through the engines'
agreement. The definitions written once for ints and arrays alike (rounding a decayed value,
the "within N days" window, how rule points add up to engagement) are used from
``semantics`` directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from leadscore.engines import semantics as s
from leadscore.spec.predicates import Bounds

if TYPE_CHECKING:  # prepared reads the bot filter, which runs over these arrays
    from leadscore.engines.prepared import Bools, Ints

NO_DAY = -1
COMPARE: dict[str, Callable[[Ints, float], Bools]] = {
    ">": np.greater,
    ">=": np.greater_equal,
    "<": np.less,
    "<=": np.less_equal,
}


def runs(keys: Sequence[Ints | npt.NDArray[np.int32]]) -> Ints:
    """Start positions of the runs of equal key tuples in sorted parallel arrays."""
    size = len(keys[0])
    if size == 0:
        return np.zeros(0, np.int64)
    change = np.zeros(size, np.bool_)
    change[0] = True
    for key in keys:
        change[1:] |= key[1:] != key[:-1]
    return np.flatnonzero(change)


def per_lead_sum(lead: npt.NDArray[np.int32], values: Ints, size: int) -> Ints:
    """Exact integer sums of ``values`` per lead; ``lead`` is sorted."""
    out = np.zeros(size, np.int64)
    if len(lead):
        starts = runs([lead])
        out[lead[starts]] = np.add.reduceat(values, starts)
    return out


def last_per_lead(lead: npt.NDArray[np.int32], values: Ints, size: int) -> Ints:
    """Each lead's last value (its latest event's, as ``lead`` is sorted by time within)."""
    out = np.full(size, NO_DAY, np.int64)
    if len(lead):
        ends = np.r_[runs([lead])[1:] - 1, len(lead) - 1]
        out[lead[ends]] = values[ends]
    return out


def day_sums(counts: Ints, points: int, repeat_ppm: int | None) -> Ints:
    """``semantics.day_points`` before the daily cap, for many days' event counts at once:
    ``counts x points``, or the diminishing series looked up in ``semantics.repeat_table``."""
    if repeat_ppm is None:
        return counts * points
    table, tail = s.repeat_table(points, repeat_ppm)
    steps = np.asarray(table, np.int64)
    last = len(steps) - 1
    return np.where(
        counts <= last,
        steps[np.minimum(counts, last)],
        steps[last] + (counts - last) * tail,
    )


def clamp(values: Ints, cap: int | None) -> Ints:
    return values if cap is None else np.clip(values, -cap, cap)


def bounds_mask(values: Ints, bounds: Bounds) -> Bools:
    mask = np.ones(len(values), np.bool_)
    for op, limit in bounds.given():
        mask &= COMPARE[op](values, limit)
    return mask


def band_indexes(values: Ints, bands: Sequence[tuple[str, float | None]]) -> Ints:
    """``semantics.band`` over arrays: the index of each value's band, -1 for none."""
    out = np.full(len(values), -1, np.int64)
    for index, (_, minimum) in reversed(list(enumerate(bands))):
        hit = np.ones(len(values), np.bool_) if minimum is None else values >= minimum
        out[hit] = index
    return out


def names_at(names: Sequence[str], indexes: Ints) -> pa.Array:
    """The names at ``indexes`` as strings, null where the index is -1."""
    if not names:
        return pa.nulls(len(indexes), pa.string())
    picks = pa.array(indexes, mask=indexes < 0)
    return pa.array(list(names), pa.string()).take(picks)
