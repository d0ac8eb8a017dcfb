"""Scoring as events stream in equals scoring a fresh replay (river's update-many check).

The incremental engine keeps per-lead state and caches between calls (attribute verdicts, the
fold of past days per rule). After every arriving event, in time order or not, and at later
instants too, its full result (explanation included) must equal that of a state built afresh
from the same events.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore import Event, IncrementalScorer, ScoringModel, compile_plan
from leadscore.testing.strategies import DAY, cases, models
from tests.conftest import examples


@settings(max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scoring_model=models(),
    case=cases(max_events=25, max_leads=2),
    in_order=st.booleans(),
    later=st.sampled_from([0, 1, 31, 200]),
    recycle_after=st.one_of(st.none(), st.integers(0, 24)),
)
def test_streamed_state_equals_fresh_replay(
    scoring_model: ScoringModel,
    case: tuple[dict[str, dict[str, object]], list[Event], int],
    in_order: bool,
    later: int,
    recycle_after: int | None,
) -> None:
    leads, events, _ = case
    arrivals = sorted(events, key=lambda e: e.timestamp) if in_order else events
    scorer = IncrementalScorer(compile_plan(scoring_model))
    states = {lead_id: scorer.new_state(lead_id, attrs) for lead_id, attrs in leads.items()}
    # a fixed horizon after every event, so past days change between calls at one instant
    horizon = max((e.timestamp for e in events), default=0) + later * DAY
    for n, event in enumerate(arrivals):
        if recycle_after == n:  # sales recycles the lead mid-stream
            scorer.set_lifecycle(states[event.lead_id], "MQL", event.timestamp)
        state = states[event.lead_id]
        for as_of in (horizon, event.timestamp, horizon):
            streamed = scorer.update_one(state, event, as_of)
            fresh = scorer.new_state(event.lead_id, leads[event.lead_id])
            scorer.set_lifecycle(fresh, state.stage, state.recycled_at)
            for past in arrivals[: n + 1]:
                if past.lead_id == event.lead_id:
                    scorer.add_one(fresh, past)
            assert streamed == scorer.score_one(fresh, as_of), (n, as_of)
