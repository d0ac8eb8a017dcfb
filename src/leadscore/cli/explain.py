"""``leadscore explain``: why a lead has its score, for people (who the lead is, every rule's
contribution, each stage condition in plain words) or for machines (``--json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from leadscore._types import format_as_of
from leadscore.app.explain import explain_lead, explain_models, explanation, history_dict
from leadscore.app.model_versions import trained_model
from leadscore.app.people import label, people
from leadscore.app.project import Project
from leadscore.cli.console import out, parse_as_of
from leadscore.cli.scoring import AsOf, ModelOption
from leadscore.engines.results import LeadScore, points


def explain(
    lead_id: Annotated[str, typer.Argument(help="The lead to explain.")],
    as_of: AsOf = None,
    model: ModelOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Why a lead has its score: every rule's contribution and every stage condition (for a
    trained model: every feature's share of the score)."""
    moment = parse_as_of(as_of)
    project = Project.find(Path.cwd())
    loaded = None if model is None else trained_model(project, model)
    if loaded is not None:
        from leadscore.predict.scoring import explain as explain_prediction

        with project.store() as store:
            found = explain_prediction(store, loaded, lead_id, moment)
        if as_json:
            typer.echo(json.dumps(found, indent=2))
            return
        out.print(
            f"[bold]{lead_id}[/bold] under [bold]{model}[/bold] v{loaded.version} as of "
            f"{found['as_of']}: score {found['score']:g} (probability "
            f"{found['probability']:.3f}); an average lead scores {found['average_score']:g}"
        )
        if found["reasons_basis"] != "score":
            out.print(
                "  calibration gives this lead the average score; the points below are the "
                "trees' own probability (before calibration), moved by each reason",
                markup=False,
            )
        table = Table("reason", "points")
        for reason in found["reasons"]:
            table.add_row(reason["text"], f"{reason['points']:+g}")
        out.print(table)
        return
    models = {m.name: m for m in project.models(model)}
    with project.store() as store:
        if model is None:
            results, others = explain_models(store, list(models.values()), lead_id, moment)
        else:  # the model asked for: an error when it does not apply
            results, others = [explain_lead(store, models[model], lead_id, moment)], []
        history = {
            r.model: [t for t in store.transitions(lead_id, r.model) if t.at <= moment]
            for r in results
        }
        who = people(store, [lead_id]).get(lead_id, {})
    if as_json:
        explained = [explanation(r, history[r.model], models[r.model]) for r in results]
        typer.echo(json.dumps(explained, indent=2))
        return
    for result in results:
        _show(result, [history_dict(t) for t in history[result.model]], who)
    if others:
        out.print(f"Not under {', '.join(others)}: those models do not apply to this lead.")


def _show(result: LeadScore, history: list[dict[str, object]], who: dict[str, Any]) -> None:
    person = ", ".join(x for x in (label(who), str(who.get("company", ""))) if x)
    out.print(
        f"[bold]{result.lead_id}[/bold]{escape(f' ({person})') if person else ''} under "
        f"[bold]{result.model}[/bold] as of "
        f"{format_as_of(result.as_of)}: score {points(result.score):g} "
        f"(fit {points(result.fit):g} + engagement {points(result.engagement):g}), "
        f"tier {result.tier}, grade {result.grade}, stage {result.stage}",
        markup=True,
    )
    if result.account is not None:
        account = result.account
        counts = "".join(f", {name} {value}" for name, value in account.counts.items())
        out.print(
            f"  account {account.id or '(none: an account of its own)'}: leads "
            f"{account.leads}, engaged {account.engaged_leads}, engagement "
            f"{points(account.engagement):g}{counts}",
            markup=False,
        )
    if result.transition is not None:
        out.print(
            f"  stage change found: {result.previous_stage or '(none recorded)'} -> "
            f"{result.stage} ({result.transition}; 'leadscore score' records it)",
            markup=False,
        )
    table = Table("kind", "rule", "events", "raw", "after decay", "points")
    for c in result.contributions:
        events = (
            ""
            if c.kind != "engagement"
            else (
                f"{c.matches}"
                + (f" (+{c.filtered} not counted)" if c.filtered else "")
                + (f" (+{c.bot_filtered} bot)" if c.bot_filtered else "")
            )
        )
        raw = f"{points(c.raw):g}" if c.kind == "engagement" else ""
        decayed = f"{points(c.decayed):g}" if c.kind == "engagement" else ""
        table.add_row(c.kind, c.name, events, raw, decayed, f"{points(c.points):+g}")
    table.add_row("", "[bold]total[/bold]", "", "", "", f"[bold]{points(result.score):g}[/bold]")
    out.print(table)
    for stage in result.stages[1:]:  # the entry stage has no conditions
        verb = "enter" if stage.kind == "enter" else "withdraw from"
        mark = "[green]hold[/green]" if stage.holds else "[red]do not hold[/red]"
        out.print(f"conditions to {verb} {stage.stage}: {mark}")
        for check in stage.checks:  # in words: "company size is more than 10: yes, 226"
            sign = "[green]yes[/green]" if check.holds else "[red]no[/red]"
            words, value = escape(check.words or check.condition), escape(_plain(check.value))
            out.print(f"  {words}: {sign}, [dim]{value}[/dim]", soft_wrap=True)
    if history:
        out.print("stage history:")
        for h in history:
            out.print(
                f"  {h['at']}  {h['from']} -> {h['to']}  ({h['kind']}: {h['reason']})",
                markup=False,
            )


def _plain(value: str) -> str:
    """A measured value as people read it: ``'226'`` -> ``226``, ``None`` -> ``missing``."""
    if value == "None":
        return "missing"
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value
