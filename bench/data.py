"""Synthetic benchmark data: N leads and M Segment-style events as Parquet (made once, cached).

Event mix and properties follow the demo company; timestamps spread over the year before
AS_OF. Written with numpy so 10 M events take seconds, not minutes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from leadscore.spec.accounts import account_of

DAY_US = 86_400_000_000
AS_OF = 20_000 * DAY_US + 12 * 3_600_000_000  # 2024-10-04 12:00 UTC
OUT = Path(__file__).parent / "out"

# (type, event, properties JSON, weight)
KINDS = [
    ("page", None, '{"path": "/"}', 20),
    ("page", None, '{"path": "/blog/lead-scoring-101"}', 10),
    ("page", None, '{"path": "/pricing"}', 6),
    ("page", None, '{"path": "/product"}', 8),
    ("page", None, '{"path": "/jobs"}', 1),
    ("track", "Email Opened", '{"email_type": "newsletter"}', 25),
    ("track", "Email Link Clicked", "{}", 10),
    ("track", "Content Downloaded", '{"premium": true}', 3),
    ("track", "Content Downloaded", '{"premium": false}', 4),
    ("track", "Webinar Registered", "{}", 2),
    ("track", "Webinar Attended", "{}", 1),
    ("track", "Form Submitted", "{}", 2),
    ("track", "Social Interaction", "{}", 4),
    ("track", "Trial Requested", "{}", 1),
    ("track", "Demo Requested", "{}", 1),
    ("track", "Unsubscribed", "{}", 1),
    ("track", "Email Bounced", "{}", 1),
]


def paths(leads: int, events: int) -> tuple[Path, Path]:
    return OUT / f"leads-{leads}.parquet", OUT / f"events-{events}-{leads}.parquet"


def make(leads: int, events: int, seed: int = 1) -> tuple[Path, Path]:
    """Write (or reuse) the Parquet files and return their paths."""
    lead_path, event_path = paths(leads, events)
    if lead_path.exists() and event_path.exists():
        return lead_path, event_path
    OUT.mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    titles = np.array(["CEO", "Marketing Manager", "Engineer", "Student", "VP Sales", ""])
    sizes = np.array(["5", "50", "250", "2000", ""])
    # 60 % work at one of 50,000 companies (about 12 leads each); the rest use free mail or a
    # disposable address and so have no account
    emails = np.array(["company", "company", "company", "gmail.com", "mailinator.com"])
    countries = np.array(["DK", "SE", "US", "RO", ""])
    t = rng.integers(0, len(titles), leads)
    s = rng.integers(0, len(sizes), leads)
    e = rng.integers(0, len(emails), leads)
    c = rng.integers(0, len(countries), leads)
    attributes = [
        json.dumps(
            {
                "job_title": titles[t[i]],
                "company_size": sizes[s[i]],
                "email": f"p{i}@"
                + (f"co{i % 50_000}.example" if emails[e[i]] == "company" else emails[e[i]]),
                "country": countries[c[i]],
            }
        )
        for i in range(leads)
    ]
    ids = np.char.add("L", np.arange(leads).astype(str))
    # the account id the store computes once per lead at import
    accounts = [account_of(json.loads(text)) for text in attributes]
    table = pa.table({"lead_id": ids, "attributes": attributes, "account_id": accounts})
    pq.write_table(table, lead_path)
    weights = np.array([k[3] for k in KINDS], dtype=float)
    kind = rng.choice(len(KINDS), size=events, p=weights / weights.sum())
    # skewed activity: a lognormal weight per lead, so the busiest leads have ~50x the median
    weight = rng.lognormal(0.0, 1.0, size=leads)
    lead = rng.choice(leads, size=events, p=weight / weight.sum())
    ts = AS_OF - rng.integers(0, 365 * DAY_US, size=events)
    types = np.array([k[0] for k in KINDS])[kind]
    names = pa.array([k[1] for k in KINDS], pa.string()).take(pa.array(kind))
    props = np.array([k[2] for k in KINDS])[kind]
    table = pa.table(
        {
            "lead_id": ids[lead],
            "type": types,
            "event": names,
            "timestamp": pa.array(ts, pa.int64()),
            "properties": props,
        }
    )
    pq.write_table(table, event_path)
    return lead_path, event_path
