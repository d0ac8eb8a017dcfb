"""The report as one self-contained HTML page: the template in ``templates/report.html``,
charts as inline SVG (``charts``), a sentence under each saying what it shows. No scripts,
no fonts or styles from the network: it opens from a mail attachment, on a phone too."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, Undefined, select_autoescape
from markupsafe import Markup, escape

from leadscore.app import charts


def _fmt(value: Any, digits: int = 0) -> str:
    if value is None or isinstance(value, Undefined):
        return "-"
    return f"{value:,.{digits}f}"


def _rate(value: Any) -> str:
    if value is None or isinstance(value, Undefined):
        return "-"
    return f"{value:.0%}"


def _leads_table(rows: list[dict[str, Any]]) -> Markup:
    if not rows:
        return Markup("<p>None.</p>")
    head = "<tr><th>lead</th><th>who</th><th>company</th><th>score</th><th>tier</th><th>on</th>"
    head += "<th>converted</th></tr>" if "converted" in rows[0] else "</tr>"
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(str(row.get(k, '')))}</td>"
            for k in ("lead_id", "name", "company", "score", "tier", "at")
        )
        + (f"<td>{escape(row['converted'])}</td>" if "converted" in row else "")
        + "</tr>"
        for row in rows
    )
    return Markup(f"<table>{head}{body}</table>")


def _figure(svg: str, caption: str) -> dict[str, str]:
    return {"svg": svg, "caption": caption}


def _funnel_charts(report: dict[str, Any]) -> list[dict[str, str]]:
    funnel, sla = report["funnel"], report["sla"]
    weeks = [row["week"] for row in funnel["weeks"]]
    names = ["leads", *funnel["stages"], "customers"]
    series = {name: [row.get(name, 0) for row in funnel["weeks"]] for name in names}
    capacity = funnel["capacity"]
    per_week = funnel["handovers_per_week"]
    caption = (
        f"New leads, stage entries and new customers each week (Monday to Sunday). "
        f"Hand-overs ({funnel['handover'] or 'none'}) averaged {_fmt(per_week, 1)} a week"
    )
    if capacity is not None:
        caption += (
            f" against {_fmt(capacity, 1)} agreed with sales (dashed); "
            f"{funnel['weeks_over_capacity']} of {len(weeks)} weeks went over."
        )
    else:
        caption += "; give --capacity to draw the volume agreed with sales."
    tiers = [row["tier"] for row in sla["by_tier"]]
    hours = [row["median_hours_to_action"] for row in sla["by_tier"]]
    days = [row["median_days_to_won"] for row in sla["by_tier"]]
    return [
        _figure(
            charts.lines("funnel", "Funnel per week", weeks, series, y_title="leads a week",
                         x_title="week starting", reference=("agreed hand-overs", capacity)
                         if capacity is not None else None),
            caption,
        ),
        _figure(
            charts.bars("sla", "Hours from hand-over to the first sales action", tiers,
                        {"median hours": hours}, y_title="hours (median)",
                        x_title="tier when handed over"),
            f"How long sales took to act on a hand-over (feedback, an outcome or a recycle), "
            f"by the lead's tier then; {sla['waiting']} of {sla['handed_over']} are waiting.",
        ),
        _figure(
            charts.bars("cycle", "Days from hand-over to won", tiers, {"median days": days},
                        y_title="days (median)", x_title="tier when handed over"),
            "The sales cycle: days from hand-over to the sale, by tier when handed over.",
        ),
    ]  # fmt: skip


def _quality_charts(report: dict[str, Any]) -> list[dict[str, str]]:
    quality, horizon = report["model_quality"], report["horizon_days"]
    tiers = quality["by_tier"]
    bands = quality["by_band"]
    months = quality["auc_by_month"]
    best = max(tiers, key=lambda t: t["rate"] or 0, default=None)
    return [
        _figure(
            charts.bars("by-tier", "Conversion rate by tier", [t["tier"] for t in tiers],
                        {"converted": [t["rate"] for t in tiers]}, y_title="converted",
                        x_title="tier at the weekly snapshot", y_format="%"),
            f"Share of leads in each tier at a weekly snapshot who were won within {horizon} "
            f"days after it; a working model converts best at the top"
            + (f" (here: {best['tier']}, {_rate(best['rate'])})." if best else "."),
        ),
        _figure(
            charts.bars("by-band", "Conversion rate by score band", [b["band"] for b in bands],
                        {"converted": [b["rate"] for b in bands]}, y_title="converted",
                        x_title="score band (points)", y_format="%"),
            "The same by 10-point score band: the rate should climb with the score.",
        ),
        _figure(
            charts.lines("auc", "ROC AUC of the score, month by month",
                         [m["month"] for m in months],
                         {"ROC AUC": [m["roc_auc"] for m in months]}, y_title="ROC AUC",
                         x_title="month (snapshot on its first day)", y_end=1.0,
                         reference=("a coin toss (0.5)", 0.5)),
            f"How well the score on the first day of each month ordered the leads won within "
            f"{horizon} days after it: 1 is a perfect order, 0.5 a coin toss. Months whose "
            f"{horizon} days run past the data's end read low.",
        ),
        _figure(
            charts.lines("tier-mix", "Tier mix over time", [m["day"] for m in report["tier_mix"]],
                         {t["tier"]: [m.get(t["tier"], 0) for m in report["tier_mix"]]
                          for t in tiers}, y_title="leads", x_title="weekly snapshot"),
            "How many scored leads each tier held at each weekly snapshot.",
        ),
    ]  # fmt: skip


def _attribution_charts(report: dict[str, Any]) -> list[dict[str, str]]:
    found = []
    for kind in ("source", "content"):
        rows = report["attribution"][kind]
        found.append(
            _figure(
                charts.hbars(f"attribution-{kind}", f"Hand-overs and customers by {kind}",
                             [r["value"] for r in rows],
                             {"handed over": [r["handed_over"] for r in rows],
                              "customers": [r["customers"] for r in rows]},
                             x_title="leads in the period"),
                f"Leads touched by each {kind} (before their hand-over, else their sale) that "
                "were handed over and that became customers in the period.",
            )
        )  # fmt: skip
    return found


def _drift_charts(report: dict[str, Any]) -> list[dict[str, str]]:
    found = report["drift"]
    if not found.get("available"):
        return []
    tiers = list(found["last"]["tier_mix"])
    return [
        _figure(
            charts.bars("drift-tiers", "Tier mix: the period before against the last",
                        tiers, {"before": [found["before"]["tier_mix"][t] for t in tiers],
                                "last": [found["last"]["tier_mix"][t] for t in tiers]},
                        y_title="leads", x_title="tier at each period's end"),
            f"Leads per tier at the end of each period; the scores' population stability index "
            f"is {found['psi']:.2f} (below 0.1: stable, above 0.25: a large shift).",
        )
    ]  # fmt: skip


def page(report: dict[str, Any], back: tuple[str, str] | None = None) -> str:
    """The HTML page of a ``build_report`` result; ``back`` (link, label) adds a way back
    (the dashboard's pages)."""
    environment = Environment(
        loader=PackageLoader("leadscore.app", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    figures = {
        "funnel": _funnel_charts(report),
        "quality": _quality_charts(report),
        "attribution": _attribution_charts(report),
        "drift": _drift_charts(report),
    }
    return environment.get_template("report.html").render(
        r=report,
        charts=figures,
        fmt=_fmt,
        fmt_rate=_rate,
        leads_table=_leads_table,
        back={"href": back[0], "label": back[1]} if back else None,
    )


def chart_ids(report: dict[str, Any]) -> list[str]:
    """The charts the page holds, by id (what a browser test looks for)."""
    ids = ["funnel", "sla", "cycle", "by-tier", "by-band", "auc", "tier-mix"]
    ids += ["attribution-source", "attribution-content"]
    return ids + (["drift-tiers"] if report["drift"].get("available") else [])
