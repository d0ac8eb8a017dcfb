"""A synthetic B2B company for ``leadscore demo`` and the tests: accounts, leads, a year of events.

Each lead has a hidden buying intent that grows with its fit (seniority, company size,
industry, region, a work email). Intent drives how much and what the lead does (pricing
visits, premium downloads, trial and demo requests) and whether it becomes a customer, so a
good scoring model should rank converters high. Junk leads (students, keyboard-mash names,
disposable addresses) are mixed in, as on a real form. Seeded: the same seed, the same company.
"""

from __future__ import annotations

import csv
import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

FIRST = [
    "Anna",
    "Lars",
    "Mette",
    "Erik",
    "Ioana",
    "Mihai",
    "Ingrid",
    "Ola",
    "Sofia",
    "Jonas",
    "Emma",
    "Noah",
    "Freja",
    "Oskar",
    "Elena",
    "Andrei",
    "Sara",
    "Magnus",
    "Julia",
    "Karl",
    "Nora",
    "Henrik",
    "Maria",
    "Peter",
    "Camilla",
    "Ahmed",
    "Li",
    "Priya",
    "Tomasz",
    "Aisha",
]
LAST = [
    "Hansen",
    "Johansson",
    "Nielsen",
    "Popescu",
    "Larsen",
    "Andersson",
    "Berg",
    "Ionescu",
    "Jensen",
    "Olsen",
    "Lindqvist",
    "Dumitru",
    "Kristiansen",
    "Svensson",
    "Schmidt",
    "Novak",
    "Kowalski",
    "Haugen",
    "Eriksson",
    "Petersen",
    "Moldovan",
    "Nguyen",
    "Khan",
    "Garcia",
]
MASH = ["asdfgh", "qwerty", "jkjkjk", "sdfsdf", "xcvbnm", "hjkl"]
COMPANY_WORDS = [
    "Nordic",
    "Fjord",
    "Carpathia",
    "Baltic",
    "Aurora",
    "Vik",
    "Danube",
    "Polar",
    "Lumen",
    "Granite",
    "Cobalt",
    "Harbor",
    "Summit",
    "Pine",
    "Delta",
    "Orbit",
]
COMPANY_KINDS = [
    "Systems",
    "Logistics",
    "Analytics",
    "Foods",
    "Energy",
    "Software",
    "Health",
    "Retail",
    "Finance",
    "Media",
    "Robotics",
    "Consulting",
]
INDUSTRIES = [
    "software",
    "technology",
    "financial services",
    "consulting",
    "manufacturing",
    "retail",
    "healthcare",
    "education",
    "telecommunications",
    "hospitality",
]
TARGET = ["DK", "SE", "NO", "FI", "DE", "NL", "GB", "RO"]
ELSEWHERE = ["US", "IN", "BR", "ZA", "AU"]
TITLES = [
    ("CEO", 3),
    ("CTO", 3),
    ("VP Sales", 3),
    ("Head of Marketing", 3),
    ("Director of Operations", 3),
    ("Marketing Manager", 2),
    ("IT Manager", 2),
    ("Sales Manager", 2),
    ("Software Engineer", 1),
    ("Marketing Specialist", 1),
    ("Accountant", 0),
    ("Assistant", 0),
    ("Student", -2),
    ("Intern", -2),
]
#: How common each title is: leaders are few, as in a real marketing database.
TITLE_WEIGHTS = [2, 1, 2, 2, 2, 8, 6, 6, 12, 12, 8, 8, 6, 4]
FREE_MAIL = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com"]
PAGES = [
    "/",
    "/blog/lead-scoring-101",
    "/blog/mql-vs-sql",
    "/product",
    "/product/integrations",
    "/customers/case-study-fjord",
    "/about",
    "/contact",
]
CONTENT = [
    ("Lead Scoring Buyer's Guide", True),
    ("ROI Calculator Whitepaper", True),
    ("Marketing Ops Checklist", False),
    ("Newsletter Archive", False),
]


#: How likely a lead is to become a customer: base + this much x intent squared.
CONVERSION_BASE, CONVERSION_INTENT = 0.04, 0.5
#: A lead's mean number of events in the year: base + this much x intent cubed (a few
#: touches for most, dozens for the keenest, so the brief's tiers rank rather than flood).
EVENTS_BASE, EVENTS_INTENT = 2.0, 30.0
#: The demo fit (-9 to 8) at which a lead is as likely to be keen as not.
INTENT_CENTER = 4.0
#: Leads per company, on average (a few colleagues: the buying-team signal stays rare).
LEADS_PER_ACCOUNT = 4
#: Company sizes are log-normal around e^mean employees (about 30).
COMPANY_SIZE_LOG_MEAN = 3.4


@dataclass(frozen=True, slots=True)
class DemoData:
    leads_csv: Path
    events_jsonl: Path
    #: lead_id, outcome (won), at: the customers, for ``leadscore import outcomes``
    outcomes_csv: Path
    leads: int
    events: int
    customers: frozenset[str]


#: (utm_source, utm_medium, utm_campaign) of the demo's campaigns; keen leads come more often
#: from search and partner webinars, the others from social ads and the newsletter.
CAMPAIGNS = [
    ("linkedin", "paid-social", "cmo-guide"),
    ("google", "cpc", "brand-search"),
    ("newsletter", "email", "monthly-digest"),
    ("partner", "referral", "partner-webinar"),
]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def generate(
    folder: Path, *, leads: int = 2000, seed: int = 7, end: datetime | None = None
) -> DemoData:
    """Write ``leads.csv``, ``events.jsonl`` and ``outcomes.csv`` (who became a customer,
    when) for a year ending at ``end`` (default: now)."""
    rng = random.Random(seed)
    end = (end or datetime.now(UTC)).replace(microsecond=0)
    start = end - timedelta(days=365)
    accounts = []
    for index in range(max(leads // LEADS_PER_ACCOUNT, 1)):
        name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)} {index}"
        domain = name.lower().replace(" ", "") + ".example"
        size = int(math.exp(rng.gauss(COMPANY_SIZE_LOG_MEAN, 1.4))) + 1
        region = rng.choice(TARGET) if rng.random() < 0.8 else rng.choice(ELSEWHERE)
        accounts.append((name, domain, size, rng.choice(INDUSTRIES), region))
    folder.mkdir(parents=True, exist_ok=True)
    leads_csv, events_jsonl = folder / "leads.csv", folder / "events.jsonl"
    columns = [
        "lead_id",
        "email",
        "first_name",
        "last_name",
        "job_title",
        "company",
        "company_size",
        "industry",
        "country",
        "phone",
    ]
    outcomes_csv = folder / "outcomes.csv"
    n_events = 0
    customers: set[str] = set()
    with (
        leads_csv.open("w", newline="", encoding="utf-8") as lf,
        events_jsonl.open("w", encoding="utf-8") as ef,
        outcomes_csv.open("w", newline="", encoding="utf-8") as of,
    ):
        writer = csv.DictWriter(lf, fieldnames=columns)
        writer.writeheader()
        won = csv.writer(of)
        won.writerow(["lead_id", "outcome", "at", "value"])
        for index in range(leads):
            company, domain, size, industry, country = rng.choice(accounts)
            title, seniority = rng.choices(TITLES, weights=TITLE_WEIGHTS)[0]
            first, last = rng.choice(FIRST), rng.choice(LAST)
            junk = rng.random() < 0.04
            if junk:
                last = rng.choice(MASH)
            free = rng.random() < 0.2
            mail_domain = rng.choice(FREE_MAIL) if free else domain
            if rng.random() < 0.01:
                mail_domain = "mailinator.com"
            fit = seniority + (2 if size >= 100 else 1 if size > 10 else -1)
            fit += (1 if industry in INDUSTRIES[:4] else 0) + (1 if country in TARGET else -2)
            fit += -2 if free else 0
            fit += -4 if junk else 0
            intent = 1 / (1 + math.exp(-(fit - INTENT_CENTER) / 1.5 + rng.gauss(0, 0.8)))
            converts = rng.random() < CONVERSION_BASE + CONVERSION_INTENT * intent**2
            lead_id = f"L-{10000 + index}"
            writer.writerow(
                {
                    "lead_id": lead_id,
                    "email": f"{first}.{last}@{mail_domain}".lower(),
                    "first_name": first,
                    "last_name": last,
                    "job_title": title,
                    "company": company,
                    "company_size": size,
                    "industry": industry,
                    "country": country,
                    "phone": f"+45 {rng.randint(20000000, 99999999)}"
                    if rng.random() < 0.5 + intent / 3
                    else "",
                }
            )
            # a customer buys at some moment of the year (more of them lately), after the
            # activity that led to it: its events come before that moment
            bought = end - (end - start) * rng.random() ** 1.5 if converts else None
            n_events += _events(ef, rng, lead_id, intent, start, bought or end)
            if bought is not None:
                won.writerow([lead_id, "won", _iso(bought), rng.choice([4800, 9600, 24000])])
                customers.add(lead_id)
    return DemoData(leads_csv, events_jsonl, outcomes_csv, leads, n_events, frozenset(customers))


def _events(
    out: TextIO, rng: random.Random, lead_id: str, intent: float, start: datetime, end: datetime
) -> int:
    """Write one lead's Segment messages between ``start`` and ``end``; activity close to
    ``end`` is likelier for keen leads."""
    count = int(rng.expovariate(1 / (EVENTS_BASE + EVENTS_INTENT * intent**3)))
    touch = random.Random(lead_id)  # campaigns drawn apart: the rest of the demo is unchanged
    written = 0
    span = (end - start).total_seconds()
    for number in range(count):
        recency = rng.random() ** (1 + 2 * intent)  # buyers skew towards the end of the year
        moment = end - timedelta(seconds=span * recency)
        roll = rng.random()
        message: dict[str, object] = {
            "type": "track",
            "userId": lead_id,
            "messageId": f"{lead_id}-{number}",
            "timestamp": _iso(moment),
        }
        if roll < 0.45 and touch.random() < 0.25:  # a visit from a campaign (UTM tags)
            weights = [1.0, 1.0 + 3 * intent, 2.0 - intent, 0.5 + 2 * intent]
            source, medium, name = touch.choices(CAMPAIGNS, weights=weights)[0]
            message["context"] = {"campaign": {"source": source, "medium": medium, "name": name}}
        if roll < 0.45:
            path = "/pricing" if rng.random() < 0.1 + 0.4 * intent else rng.choice(PAGES)
            if rng.random() < 0.02:
                path = "/jobs"
            message.update(
                type="page",
                name=path.strip("/") or "home",
                properties={"path": path, "url": f"https://example.com{path}"},
            )
        elif roll < 0.70:
            message["event"] = "Email Opened"
            message["properties"] = {"email_type": rng.choice(["newsletter", "promotional"])}
        elif roll < 0.82:
            message["event"] = "Email Link Clicked"
        elif roll < 0.90:
            title, premium = rng.choice(CONTENT)
            message["event"] = "Content Downloaded"
            message["properties"] = {"content": title, "premium": premium}
        elif roll < 0.94:
            message["event"] = rng.choice(["Webinar Registered", "Webinar Attended"])
        elif roll < 0.97:
            message["event"] = rng.choice(["Form Submitted", "Social Interaction"])
        elif rng.random() < 0.3 + 0.6 * intent:
            message["event"] = rng.choice(
                ["Trial Requested", "Demo Requested", "Contact Requested"]
            )
        else:
            message["event"] = rng.choice(["Unsubscribed", "Email Bounced"])
        out.write(json.dumps(message) + "\n")
        written += 1
    return written
