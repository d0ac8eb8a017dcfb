"""What changed between two versions of a scoring model, in words a marketing-ops person
reviews before switching a model on: rules added and removed, points, caps, windows and
decay changed, thresholds moved, stage conditions added and dropped.

Rules, groups, tiers, grades and stages are matched by name; within one, each setting that
differs is one change. The stage conditions are compared leaf by leaf, in plain words
(``spec.wording``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from leadscore.spec import conditions as c
from leadscore.spec.model import ScoringModel
from leadscore.spec.wording import condition_words

Kind = Literal["added", "removed", "changed"]


@dataclass(frozen=True, slots=True)
class Change:
    """One difference: what (``engagement rule 'webinar'``), how, and the detail."""

    what: str
    kind: Kind
    detail: str

    def line(self) -> str:
        mark = {"added": "+", "removed": "-", "changed": "~"}[self.kind]
        return f"{mark} {self.what}: {self.detail}" if self.detail else f"{mark} {self.what}"


def diff_models(before: ScoringModel, after: ScoringModel) -> list[Change]:
    """Every difference from ``before`` to ``after``, in the model file's order."""
    changes: list[Change] = []
    for label, old, new in (
        ("fit rule", before.fit, after.fit),
        ("group", before.groups, after.groups),
        ("engagement rule", before.engagement, after.engagement),
        ("tier", before.tiers, after.tiers),
        ("grade", before.grades, after.grades),
    ):
        changes += _named(label, list(old), list(new))
    for key in ("decay", "engagement_cap", "clip", "bot_filter", "priority", "recycle",
                "accounts", "applies_to"):  # fmt: skip
        old_value, new_value = _plain(getattr(before, key)), _plain(getattr(after, key))
        if old_value != new_value:
            changes.append(Change(key.replace("_", " "), "changed",
                                  f"{_text(old_value)} -> {_text(new_value)}"))  # fmt: skip
    changes += _stages(before, after)
    return changes


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_defaults=True, by_alias=True)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _text(value: Any) -> str:
    if value is None or value == {} or value == []:
        return "none"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "[" + "; ".join(_text(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _named(label: str, old: list[Any], new: list[Any]) -> list[Change]:
    """Items matched by name: the new file's order, then the items it dropped."""
    before = {item.name: _plain(item) for item in old}
    after = {item.name: _plain(item) for item in new}
    changes = []
    for name, values in after.items():
        what = f"{label} {name!r}"
        if name not in before:
            changes.append(Change(what, "added", _summary(values)))
            continue
        for key in sorted(before[name].keys() | values.keys()):
            was, now = before[name].get(key), values.get(key)
            if was != now:
                detail = f"{key.replace('_', ' ')} {_text(was)} -> {_text(now)}"
                changes.append(Change(what, "changed", detail))
    changes += [
        Change(f"{label} {name!r}", "removed", _summary(values))
        for name, values in before.items()
        if name not in after
    ]
    return changes


def _summary(values: dict[str, Any]) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {_text(v)}" for k, v in values.items() if k != "name")


def _stages(before: ScoringModel, after: ScoringModel) -> list[Change]:
    old = {stage.name: stage for stage in before.stages}
    new = {stage.name: stage for stage in after.stages}
    changes = [Change(f"stage {n!r}", "removed", "") for n in old if n not in new]
    changes += [Change(f"stage {n!r}", "added", "") for n in new if n not in old]
    for name in (n for n in new if n in old):
        for part in ("when", "withdraw"):
            was, now = _leaves(old[name], part), _leaves(new[name], part)
            what = f"stage {name!r} {'entry' if part == 'when' else 'withdraw'} conditions"
            changes += [Change(what, "removed", words) for words in was if words not in now]
            changes += [Change(what, "added", words) for words in now if words not in was]
    return changes


def _leaves(stage: Any, part: str) -> list[str]:
    """A stage's entry (or withdraw) condition leaves in plain words (``not`` said)."""
    tree = stage.when if part == "when" else (stage.withdraw.when if stage.withdraw else None)
    if tree is None:
        return []
    found: list[str] = []

    def walk(node: c.Condition, negated: bool) -> None:
        if isinstance(node, c.All | c.AnyOf):
            for child in node.all if isinstance(node, c.All) else node.any:
                walk(child, negated)
        elif isinstance(node, c.Not):
            walk(node.not_, not negated)
        else:
            found.append(condition_words(node, negated))

    walk(tree, False)
    return found
