"""A service round's cost for one lead with a new checked event: the lead's part extended,
against the part made again from all its events (what a round did before a new event the
bot filter looks at could extend a part).

    python bench/lead_parts.py --events 20 200 2000 --runs 5

The lead's history is every hour for ``--events`` hours, a quarter each of email opens and
link clicks (both checked by the default model's bot filter), pricing page views and forms;
the new event is one more click an hour after the last. Reported: the best of ``--runs``
repeats of 200 calls each, in microseconds a call, and the ratio.
"""

from __future__ import annotations

import argparse
import timeit

from leadscore import compile_plan, default_model
from leadscore.engines.lead_parts import EventRow, PartMaker

HOUR = 3_600_000_000
KINDS = [
    ("track", "Email Opened", '{"email_type": "newsletter"}'),
    ("track", "Email Link Clicked", "{}"),
    ("page", None, '{"path": "/pricing"}'),
    ("track", "Form Submitted", "{}"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[20, 200, 2000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    maker = PartMaker(compile_plan(default_model()))
    for count in args.events:
        extended, made = timed(maker, count, args.runs)
        print(
            f"{count:6,} events: extended {extended:7.0f} us, made again {made:7.0f} us "
            f"({made / extended:.1f}x)"
        )


def timed(maker: PartMaker, count: int, runs: int) -> tuple[float, float]:
    """Microseconds a call: extending the part of a lead with ``count`` events by one new
    click, and making it again from all of them."""
    rows: list[EventRow] = [
        (KINDS[i % 4][0], KINDS[i % 4][1], i * HOUR, KINDS[i % 4][2], f"m{i}") for i in range(count)
    ]
    new: list[EventRow] = [("track", "Email Link Clicked", count * HOUR, "{}", "new")]
    part = maker.part("{}", None, rows)
    every = rows + new
    assert maker.extended(part, new, every) is not None
    extend = timeit.repeat(lambda: maker.extended(part, new, every), number=200, repeat=runs)
    make = timeit.repeat(lambda: maker.part("{}", None, every, part), number=200, repeat=runs)
    return min(extend) / 200 * 1e6, min(make) / 200 * 1e6


if __name__ == "__main__":
    main()
