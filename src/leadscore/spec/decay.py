"""How an interaction's points shrink with age: data only (the factor is in engines/semantics.py).

Age is counted in whole UTC calendar days between the event's day and the ``as_of`` day, so an
event of the same day is 0 days old.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoDecay(_Spec):
    """Full points whatever the age."""

    type: Literal["none"]


class HalfLife(_Spec):
    """Exponential: the factor halves every ``days`` days."""

    type: Literal["half_life"]
    days: float = Field(gt=0)


class Linear(_Spec):
    """The factor drops by ``rate`` for every full ``period_days`` of age, never below ``floor``."""

    type: Literal["linear"]
    period_days: int = Field(gt=0)
    rate: float = Field(gt=0, le=1)
    floor: float = Field(default=0.0, ge=0, le=1)


class Step(_Spec):
    max_age_days: int = Field(ge=0, description="inclusive upper bound of the age in days")
    factor: float = Field(ge=0, le=1)


class Steps(_Spec):
    """A schedule: the first step whose ``max_age_days`` the age does not exceed gives the factor;
    ages beyond the last step get ``otherwise``."""

    type: Literal["steps"]
    steps: list[Step] = Field(min_length=1)
    otherwise: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _ascending(self) -> Steps:
        ages = [step.max_age_days for step in self.steps]
        if ages != sorted(set(ages)):
            raise ValueError(f"steps must have strictly increasing max_age_days; got {ages}")
        return self


Decay = Annotated[NoDecay | HalfLife | Linear | Steps, Field(discriminator="type")]
