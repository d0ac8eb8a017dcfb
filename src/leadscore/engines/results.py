"""The one result type: a lead's score under one model, with its explanation.

The CLI, files and (later) the API convert from these; nothing downstream recomputes a score.
Point values are integer milli-points; ``points()`` turns one into a float for display.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from leadscore.engines.semantics import MILLI
from leadscore.spec.accounts import PREFIX

ContributionKind = Literal[
    "fit", "engagement", "group_daily_cap", "group_cap", "engagement_cap", "clip"
]
#: How a lead's stage changed in one evaluation: conditions of a later stage came to hold
#: (advance) or the current stage's withdraw conditions held (withdraw). Recycles are recorded
#: by a person, never decided by an engine.
Transition = Literal["advance", "withdraw"]


def points(milli: int) -> float:
    """Milli-points as points for display (exact: three decimals at most)."""
    return milli / MILLI


@dataclass(frozen=True, slots=True)
class RuleContribution:
    """What one rule (or one cap or the clip) adds to the total.

    ``points`` of all contributions add up to the lead's score exactly. For an engagement rule,
    ``matches`` counts the events that scored and ``filtered`` those that matched but did not
    (older than the window, or beyond the first with ``once``) and ``bot_filtered`` those the
    model's bot filter removed; ``raw`` is before decay (after
    the daily cap), ``decayed`` after decay and ``points`` after the rule's cap.
    """

    kind: ContributionKind
    name: str
    points: int
    matches: int = 0
    filtered: int = 0
    raw: int = 0
    decayed: int = 0
    group: str | None = None
    bot_filtered: int = 0


@dataclass(frozen=True, slots=True)
class ConditionCheck:
    """One leaf of a stage's condition tree: what it asks, the measured value, whether it holds."""

    condition: str
    value: str
    holds: bool
    #: the condition in plain words (``spec.wording``), for tables and pages; ``condition``
    #: is the exact form machines read
    words: str = ""


@dataclass(frozen=True, slots=True)
class StageCheck:
    """A stage's entry conditions (``kind="enter"``) or the current stage's withdraw
    conditions (``kind="withdraw"``), evaluated now; ``holds`` is the tree's verdict."""

    stage: str
    holds: bool
    checks: tuple[ConditionCheck, ...]
    kind: Literal["enter", "withdraw"] = "enter"


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What a lead's account looks like as of one instant (``spec/accounts.py`` defines each
    fact); engagement in milli-points."""

    id: str | None
    leads: int
    engaged_leads: int
    engagement: int
    counts: dict[str, int] = field(default_factory=dict)

    def attributes(self) -> dict[str, object]:
        """The facts as the ``account.*`` fields predicates read."""
        facts: dict[str, object] = {
            "id": self.id,
            "leads": self.leads,
            "engaged_leads": self.engaged_leads,
            "engagement": self.engagement / MILLI,
            **self.counts,
        }
        return {PREFIX + name: value for name, value in facts.items()}


@dataclass(frozen=True, slots=True)
class LeadScore:
    """A lead's result under one model as of one instant (microseconds since the epoch, UTC)."""

    lead_id: str
    model: str
    as_of: int
    fit: int
    engagement: int
    score: int
    tier: str | None
    grade: str | None
    stage: str | None
    contributions: tuple[RuleContribution, ...] = ()
    stages: tuple[StageCheck, ...] = ()
    #: the stage recorded before this evaluation (None: nothing recorded yet)
    previous_stage: str | None = None
    transition: Transition | None = None
    #: the account facts the model read (None when it reads none)
    account: AccountFacts | None = None

    def row(self) -> dict[str, object]:
        """The flat row written to score files (no explanation)."""
        return {
            "lead_id": self.lead_id,
            "model": self.model,
            "fit": points(self.fit),
            "engagement": points(self.engagement),
            "score": points(self.score),
            "tier": self.tier,
            "grade": self.grade,
            "stage": self.stage,
            "previous_stage": self.previous_stage,
            "transition": self.transition,
        }
