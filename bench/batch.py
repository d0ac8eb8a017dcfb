"""Batch scoring benchmark: leadscore's BatchEngine vs DuckDB queries vs pandas groupby.

    python bench/batch.py --leads 1000000 --events 10000000 --runs 3

Each variant runs in its own process (so peak memory is its own) on the same Parquet data
(bench/data.py, generated once into bench/out/). Reported: median wall time of the scoring
step (data already in memory), events per second, peak RSS, and the ratio to each baseline
measured in the same run. The plain query and pandas compute less than leadscore does (no
fit rules, no property predicates beyond the event name and pricing path, no stages); they
are the "decayed sum with caps, then tiers" of STACK.md. The hand-written query computes
the brief's whole engagement (points, step decay, daily caps, once-only rules, a rule cap,
the email group's cap, clipping and tiers) as a user who writes their own SQL would, and
``leadscore-comparable`` scores the same model (the brief without fit, bot filter and
stages) from scratch; before timing, the two are checked equal on every lead.

leadscore runs four ways: from scratch (prepare and score; with and without fit rules), from
a kept preparation (score only: a re-run with nothing changed, or at another instant), and a
daily run (read the kept preparation from disk, prepare the leads with events in the last day
again, merge, score, write it back).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import data

POINTS = {
    "Email Opened": 2,
    "Email Link Clicked": 3,
    "Content Downloaded": 5,
    "Webinar Registered": 10,
    "Webinar Attended": 10,
    "Form Submitted": 5,
    "Social Interaction": 1,
    "Trial Requested": 25,
    "Demo Requested": 15,
    "Unsubscribed": -10,
    "Email Bounced": -10,
}


def plain_duckdb(leads_path: Path, events_path: Path) -> float:
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"CREATE TABLE events AS SELECT * FROM '{events_path}'")
    cases = " ".join(f"WHEN '{k}' THEN {v}" for k, v in POINTS.items())
    query = f"""
        WITH scored AS (
          SELECT lead_id,
                 CASE WHEN type = 'page' THEN 1 ELSE CASE event {cases} ELSE 0 END END AS points,
                 {data.AS_OF // data.DAY_US} - timestamp // {data.DAY_US} AS age
          FROM events WHERE timestamp <= {data.AS_OF}),
        decayed AS (
          SELECT lead_id, sum(points * CASE WHEN age <= 30 THEN 1.0 WHEN age <= 180 THEN 0.75
                                            ELSE 0.5 END) AS engagement
          FROM scored GROUP BY lead_id)
        SELECT lead_id, least(greatest(engagement, 0), 100) AS score,
               CASE WHEN engagement >= 50 THEN 'hot' WHEN engagement >= 19 THEN 'warm'
                    ELSE 'cold' END AS tier
        FROM decayed"""
    started = time.perf_counter()
    con.sql(query).to_arrow_table()
    return time.perf_counter() - started


#: The hand-written model: the brief's engagement rules (points in milli-points), as a user
#: who writes their own SQL would write them; (name, type, event, path prefixes, points, group).
PER_EVENT = [
    ("pricing page", "page", None, ["/pricing"], 5000, "web"),
    ("content download", "track", "Content Downloaded", None, 5000, None),
    ("email open", "track", "Email Opened", None, 2000, "email"),
    ("email click", "track", "Email Link Clicked", None, 3000, "email"),
    ("webinar registration", "track", "Webinar Registered", None, 10000, None),
    ("webinar attendance", "track", "Webinar Attended", None, 10000, None),
    ("form submission", "track", "Form Submitted", None, 5000, None),
]
#: Rules whose day's events are summed and capped, then decayed once: (..., daily cap).
DAILY = [
    ("page view", "page", None, None, 1000, "web", 10000),
    ("social interaction", "track", "Social Interaction", None, 1000, None, 3000),
]
#: Rules where only the most recent matching event counts.
ONCE = [
    ("jobs page", "page", None, ["/jobs", "/careers"], -5000, "web"),
    ("unsubscribe", "track", "Unsubscribed", None, -10000, "email"),
    ("email bounce", "track", "Email Bounced", None, -10000, "email"),
    ("trial request", "track", "Trial Requested", None, 25000, None),
    ("contact request", "track", "Contact Requested", None, 15000, None),
    ("demo request", "track", "Demo Requested", None, 15000, None),
]
RULE_CAPS = {"pricing page": 25000}
GROUP_CAPS = {"email": 30000}


def _matching(kind: str, event: str | None, prefixes: list[str] | None) -> str:
    test = f"type = '{kind}'" + (f" AND event = '{event}'" if event else "")
    if prefixes:
        test += " AND (" + " OR ".join(f"starts_with(path, '{p}')" for p in prefixes) + ")"
    return test


def hand_written_sql() -> str:
    """The brief's engagement in one DuckDB query: points, step decay, daily caps, once-only
    rules, a rule cap, the email group's cap of 30, clipping to 0..100 and the tiers."""
    day = data.DAY_US
    per_event = " UNION ALL ".join(
        f"SELECT lead_id, '{name}' AS rule, '{group}' AS grp, "
        f"CAST({points} * factor AS BIGINT) AS pts FROM f WHERE {_matching(t, e, pre)}"
        for name, t, e, pre, points, group in PER_EVENT
    )
    daily = " UNION ALL ".join(
        f"SELECT lead_id, '{name}' AS rule, '{group}' AS grp, "
        f"CAST(least(count(*) * {points}, {cap}) * any_value(factor) AS BIGINT) AS pts "
        f"FROM f WHERE {_matching(t, e, pre)} GROUP BY lead_id, timestamp // {day}"
        for name, t, e, pre, points, group, cap in DAILY
    )
    once = " UNION ALL ".join(
        f"SELECT lead_id, '{name}' AS rule, '{group}' AS grp, "
        f"CAST(arg_max({points} * factor, timestamp) AS BIGINT) AS pts "
        f"FROM f WHERE {_matching(t, e, pre)} GROUP BY lead_id"
        for name, t, e, pre, points, group in ONCE
    )
    rule_cap = " ".join(
        f"WHEN '{name}' THEN least(greatest(sum(pts), -{cap}), {cap})"
        for name, cap in RULE_CAPS.items()
    )
    group_cap = " ".join(
        f"WHEN '{name}' THEN least(greatest(sum(pts), -{cap}), {cap})"
        for name, cap in GROUP_CAPS.items()
    )
    return f"""
        WITH f AS (
          SELECT lead_id, type, event, timestamp,
                 lower(trim(json_extract_string(properties, '$.path'))) AS path,
                 CASE WHEN {data.AS_OF // day} - timestamp // {day} <= 30 THEN 1.0
                      WHEN {data.AS_OF // day} - timestamp // {day} <= 180 THEN 0.75
                      ELSE 0.5 END AS factor
          FROM events WHERE timestamp <= {data.AS_OF}),
        points AS ({per_event} UNION ALL {daily} UNION ALL {once}),
        rules AS (SELECT lead_id, grp, CASE rule {rule_cap} ELSE sum(pts) END AS pts
                  FROM points GROUP BY lead_id, grp, rule),
        groups AS (SELECT lead_id, CASE grp {group_cap} ELSE sum(pts) END AS pts
                   FROM rules GROUP BY lead_id, grp),
        engaged AS (SELECT lead_id, sum(pts) AS engagement FROM groups GROUP BY lead_id)
        SELECT l.lead_id, CAST(coalesce(e.engagement, 0) AS BIGINT) AS engagement,
               CAST(least(greatest(coalesce(e.engagement, 0), 0), 100000) AS BIGINT) AS score,
               CASE WHEN coalesce(e.engagement, 0) >= 50000 THEN 'hot'
                    WHEN coalesce(e.engagement, 0) >= 19000 THEN 'warm' ELSE 'cold' END AS tier
        FROM leads l LEFT JOIN engaged e USING (lead_id)"""


def comparable_model() -> object:
    """The brief model cut to what ``hand_written_sql`` computes: engagement, clip, tiers."""
    from leadscore import default_model
    from leadscore.spec.model import ScoringModel

    spec = default_model().model_dump(mode="json", exclude_none=True)
    for part in ("bot_filter", "stages", "grades", "accounts", "recycle"):
        spec.pop(part, None)
    return ScoringModel.model_validate({**spec, "name": "comparable", "fit": []})


def duckdb_hand_written(leads_path: Path, events_path: Path) -> float:
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"CREATE TABLE events AS SELECT * FROM '{events_path}'")
    con.execute(f"CREATE TABLE leads AS SELECT lead_id FROM '{leads_path}'")
    query = hand_written_sql()
    started = time.perf_counter()
    con.sql(query).to_arrow_table()
    return time.perf_counter() - started


def leadscore_comparable(leads_path: Path, events_path: Path) -> float:
    """leadscore from scratch on the model ``hand_written_sql`` computes."""
    import pyarrow.parquet as pq

    from leadscore import compile_plan
    from leadscore.engines.registry import get_preparing_engine

    leads, events = pq.read_table(leads_path), pq.read_table(events_path)
    plan = compile_plan(comparable_model())  # type: ignore[arg-type]
    started = time.perf_counter()
    get_preparing_engine().score_many(plan, leads, events, data.AS_OF)
    return time.perf_counter() - started


def check_comparable(leads_path: Path, events_path: Path) -> int:
    """How many leads the hand-written query and leadscore agree on (engagement, score and
    tier); raises at the first lead they do not."""
    import duckdb
    import pyarrow.parquet as pq

    from leadscore import compile_plan
    from leadscore.engines.registry import get_preparing_engine

    leads, events = pq.read_table(leads_path), pq.read_table(events_path)
    plan = compile_plan(comparable_model())  # type: ignore[arg-type]
    ours = get_preparing_engine().score_many(plan, leads, events, data.AS_OF)
    con = duckdb.connect()
    con.register("events", events)
    con.register("leads", leads)
    con.register("ours", ours)
    differing = con.sql(
        "SELECT h.lead_id, h.engagement, o.engagement, h.tier, o.tier "
        f"FROM ({hand_written_sql()}) h FULL JOIN ours o USING (lead_id) "
        "WHERE h.engagement IS DISTINCT FROM o.engagement "
        "OR h.score IS DISTINCT FROM o.score OR h.tier IS DISTINCT FROM o.tier LIMIT 5"
    ).fetchall()
    if differing:
        raise AssertionError(f"the hand-written query and leadscore differ: {differing}")
    return ours.num_rows


def pandas_groupby(leads_path: Path, events_path: Path) -> float:
    import numpy as np
    import pandas as pd

    events = pd.read_parquet(events_path)
    started = time.perf_counter()
    events = events[events["timestamp"] <= data.AS_OF]
    points = events["event"].map(POINTS).fillna(0).to_numpy()
    points = np.where(events["type"].to_numpy() == "page", 1, points)
    age = data.AS_OF // data.DAY_US - events["timestamp"].to_numpy() // data.DAY_US
    factor = np.where(age <= 30, 1.0, np.where(age <= 180, 0.75, 0.5))
    frame = pd.DataFrame({"lead_id": events["lead_id"].to_numpy(), "v": points * factor})
    engagement = frame.groupby("lead_id", sort=False)["v"].sum()
    score = engagement.clip(0, 100)
    pd.cut(engagement, [-np.inf, 19, 50, np.inf], right=False, labels=["cold", "warm", "hot"])
    _ = score
    return time.perf_counter() - started


def leadscore_batch(leads_path: Path, events_path: Path) -> float:
    import pyarrow.parquet as pq

    from leadscore import compile_plan, default_model
    from leadscore.engines.registry import get_preparing_engine

    leads, events = pq.read_table(leads_path), pq.read_table(events_path)
    plan = compile_plan(default_model())
    started = time.perf_counter()
    get_preparing_engine().score_many(plan, leads, events, data.AS_OF)
    return time.perf_counter() - started


def leadscore_events_only(leads_path: Path, events_path: Path) -> float:
    """The brief model without fit rules: the part comparable with the baselines."""
    import pyarrow.parquet as pq

    from leadscore import compile_plan, default_model
    from leadscore.engines.registry import get_preparing_engine

    leads, events = pq.read_table(leads_path), pq.read_table(events_path)
    brief = default_model()
    plan = compile_plan(brief.model_copy(update={"fit": []}))
    started = time.perf_counter()
    get_preparing_engine().score_many(plan, leads, events, data.AS_OF)
    return time.perf_counter() - started


def leadscore_kept(leads_path: Path, events_path: Path) -> float:
    """Re-scoring from a kept preparation (what `leadscore score` does when nothing changed):
    the clock runs for the scoring phase only."""
    import pyarrow.parquet as pq

    from leadscore import compile_plan, default_model
    from leadscore.engines.registry import get_preparing_engine

    leads, events = pq.read_table(leads_path), pq.read_table(events_path)
    engine = get_preparing_engine()
    prepared = engine.prepare(compile_plan(default_model()), leads, events)
    started = time.perf_counter()
    engine.score(prepared, data.AS_OF)
    return time.perf_counter() - started


def leadscore_next_day(leads_path: Path, events_path: Path) -> float:
    """A daily run: the kept preparation holds everything before the last day; the clock runs
    while it is read from disk, the leads with events in the last day are prepared again
    (with all their events) and merged in, every lead is scored and the result is kept."""
    import tempfile

    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from leadscore import compile_plan, default_model
    from leadscore.engines.prepared import merge
    from leadscore.engines.prepared_files import load, save
    from leadscore.engines.registry import get_preparing_engine

    leads, events = pq.read_table(leads_path), pq.read_table(events_path)
    plan = compile_plan(default_model())
    engine = get_preparing_engine()
    new = pc.greater(events["timestamp"], data.AS_OF - data.DAY_US)
    changed = pc.unique(events.filter(new)["lead_id"])
    folder = Path(tempfile.mkdtemp(dir=data.OUT))
    save(engine.prepare(plan, leads, events.filter(pc.invert(new))), folder, "bench", {})
    mine = pc.is_in(leads["lead_id"], value_set=changed)
    changed_leads = leads.filter(mine)
    changed_events = events.filter(pc.is_in(events["lead_id"], value_set=changed))
    started = time.perf_counter()
    kept = load(folder, plan, "bench")
    assert kept is not None
    prepared = merge(kept[0], engine.prepare(plan, changed_leads, changed_events))
    engine.score(prepared, data.AS_OF)
    save(prepared, folder, "bench", {})
    seconds = time.perf_counter() - started
    print(
        f"changed: {changed_leads.num_rows:,} leads, {changed_events.num_rows:,} events",
        file=sys.stderr,
    )
    __import__("shutil").rmtree(folder)
    return seconds


VARIANTS = {
    "duckdb-plain": plain_duckdb,
    "duckdb-hand-written": duckdb_hand_written,
    "leadscore-comparable": leadscore_comparable,
    "pandas": pandas_groupby,
    "leadscore": leadscore_batch,
    "leadscore-no-fit": leadscore_events_only,
    "leadscore-kept": leadscore_kept,
    "leadscore-next-day": leadscore_next_day,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    leads_path, events_path = data.make(args.leads, args.events)
    if args.variant:
        seconds = VARIANTS[args.variant](leads_path, events_path)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))
        return
    print(
        f"machine: {platform.processor() or platform.machine()}, "
        f"{__import__('os').cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"data: {args.leads:,} leads, {args.events:,} events; median of {args.runs} runs")
    agreed = check_comparable(leads_path, events_path)
    print(f"checked: the hand-written query and leadscore agree on all {agreed:,} leads")
    results = {}
    for name in VARIANTS:
        runs = []
        for _ in range(args.runs):
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--leads",
                    str(args.leads),
                    "--events",
                    str(args.events),
                    "--variant",
                    name,
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            notes = [line for line in done.stderr.splitlines() if line.startswith("changed:")]
        seconds = statistics.median(r["seconds"] for r in runs)
        peak = max(r["peak_mb"] for r in runs)
        results[name] = seconds
        print(
            f"{name:18s} {seconds:7.2f} s  {args.events / seconds / 1e6:6.2f} M events/s  "
            f"peak {peak:,.0f} MB  runs {[round(r['seconds'], 2) for r in runs]}"
        )
        if notes:
            print(f"{'':18s} {notes[-1]}")
    for name in VARIANTS:
        if not name.startswith("leadscore"):
            continue
        print(
            f"{name}: {results['duckdb-plain'] / results[name]:.2f}x the plain DuckDB query, "
            f"{results['duckdb-hand-written'] / results[name]:.2f}x the hand-written query, "
            f"{results['pandas'] / results[name]:.2f}x pandas"
        )


if __name__ == "__main__":
    main()
