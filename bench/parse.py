"""Parsing Segment messages as the service does (``store.messages.parse_message`` after
``spec.json_values.loads`` and ``text_is_clean``), per message, with the checks that keep
hostile input out.

    python bench/parse.py --messages 20000 --runs 7

Reports the median time per message over ``--runs`` passes; to compare two trees, run it
with ``PYTHONPATH=<tree>/src`` for each, alternating. A tree without ``json_values`` is read
with ``json.loads``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from leadscore.store.messages import parse_message

try:
    from leadscore.spec.json_values import loads
except ImportError:  # a tree from before the checks
    loads = json.loads
try:
    from leadscore.spec.json_values import text_is_clean
except ImportError:  # a tree from before the scan of the body's text
    text_is_clean = None

NOW_US = 1_800_000_000_000_000


def messages(count: int) -> list[str]:
    """Typical track calls: a handful of properties and Segment's context."""
    return [
        json.dumps(
            {
                "type": "track",
                "userId": f"lead{n % 2000}",
                "event": "Email Opened",
                "messageId": f"m{n}",
                "timestamp": "2026-11-30T10:00:00Z",
                "properties": {"email_type": "newsletter", "campaign": "c12", "n": n},
                "context": {
                    "userAgent": "Mozilla/5.0",
                    "ip": "10.0.0.1",
                    "library": {"name": "analytics-python", "version": "2.3"},
                },
            }
        )
        for n in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    texts = messages(args.messages)
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        for text in texts:
            raw: Any = loads(text)
            if text_is_clean is None:
                parse_message(raw, NOW_US)
            else:  # as the service does: one scan of the body, then no check per string
                parse_message(raw, NOW_US, text_checked=text_is_clean(text))
        times.append(time.perf_counter() - started)
    per_message = statistics.median(times) / len(texts) * 1e6
    print(f"parse_message: {per_message:.1f} us a message (median of {args.runs} runs)")


if __name__ == "__main__":
    main()
