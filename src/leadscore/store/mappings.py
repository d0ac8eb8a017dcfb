"""Column mappings for lead exports: HubSpot and Salesforce headers -> leadscore attributes.

A file without an id column is keyed by email (``email_key``). Any other column keeps its
name, lower-cased with spaces as underscores (``Lead Source`` -> ``lead_source``), so custom
fields are usable in rules without configuration.
"""

from __future__ import annotations

from typing import Any

from leadscore.errors import InputError
from leadscore.settings import CrmStage

#: HubSpot contact export headers (the labels its export writes).
HUBSPOT = {
    "record id": "lead_id",
    "contact id": "lead_id",
    "email": "email",
    "first name": "first_name",
    "last name": "last_name",
    "job title": "job_title",
    "company name": "company",
    "number of employees": "company_size",
    "industry": "industry",
    "country/region": "country",
    "phone number": "phone",
    "lifecycle stage": "crm_stage",
    "lead status": "crm_lead_status",
    "contact owner": "owner",
    "associated company id": "company_id",
    "company id": "company_id",
}

#: Salesforce lead and contact headers: a report's labels and a data export's API names.
SALESFORCE = {
    "lead id": "lead_id",
    "contact id": "lead_id",
    "email": "email",
    "first name": "first_name",
    "firstname": "first_name",
    "last name": "last_name",
    "lastname": "last_name",
    "title": "job_title",
    "company": "company",
    "account name": "company",
    "no. of employees": "company_size",
    "employees": "company_size",
    "numberofemployees": "company_size",
    "industry": "industry",
    "country": "country",
    "mailing country": "country",
    "phone": "phone",
    "lead source": "lead_source",
    "leadsource": "lead_source",
    "lead status": "crm_stage",
    "status": "crm_stage",
    "stage": "crm_stage",
    "lead owner": "owner",
    "owner": "owner",
    "account id": "account_id",
    "accountid": "account_id",
}

#: Id columns any file may use.
GENERIC = {"id": "lead_id", "userid": "lead_id", "user_id": "lead_id", "lead_id": "lead_id"}

MAPPINGS = {"hubspot": HUBSPOT, "salesforce": SALESFORCE, "none": {}}

#: Headers only one CRM writes: the mapping a file's header suggests is the one it shares
#: more of these with (none when it shares none, or as many with each).
_MARKS = {
    "hubspot": {
        "record id", "lifecycle stage", "company name", "country/region",
        "number of employees", "phone number", "job title", "contact owner",
        "associated company id",
    },
    "salesforce": {
        "lead id", "contact id", "lead status", "status", "lead source", "leadsource",
        "no. of employees", "numberofemployees", "account name", "mailing country", "title",
        "company", "firstname", "lastname", "lead owner", "accountid",
    },
}  # fmt: skip

#: What the CRMs' stock stage values mean, keyed by ``stage_key``: HubSpot's lifecycle stages
#: (labels and internal names alike), Salesforce's lead statuses and closed opportunity
#: stages. The stage names are the default model's (Lead, MQL, SQL); the ``crm_stages``
#: setting changes or adds values, and a model without the named stage skips it.
CRM_STAGES: dict[str, CrmStage] = {
    "subscriber": CrmStage(stage="Lead"),
    "lead": CrmStage(stage="Lead"),
    "marketingqualifiedlead": CrmStage(stage="MQL"),
    "salesqualifiedlead": CrmStage(stage="SQL"),
    "opportunity": CrmStage(stage="SQL"),
    "customer": CrmStage(stage="SQL", outcome="won"),
    "evangelist": CrmStage(stage="SQL", outcome="won"),
    "other": CrmStage(),
    "opennotcontacted": CrmStage(stage="Lead"),
    "workingcontacted": CrmStage(stage="SQL"),
    "closedconverted": CrmStage(stage="SQL", outcome="converted"),
    "closednotconverted": CrmStage(outcome="lost"),
    "closedwon": CrmStage(stage="SQL", outcome="won"),
    "closedlost": CrmStage(outcome="lost"),
}


def stage_key(value: object) -> str:
    """A CRM stage value as looked up: letters and digits only, lower-cased, so HubSpot's
    label ``Marketing Qualified Lead`` and its internal ``marketingqualifiedlead`` agree."""
    return "".join(c for c in str(value).lower() if c.isalnum())


def stage_meanings(overrides: dict[str, CrmStage | str]) -> dict[str, CrmStage]:
    """``CRM_STAGES`` with the ``crm_stages`` setting over it (a string is a stage name; an
    empty one means nothing)."""
    meanings = dict(CRM_STAGES)
    for value, meaning in overrides.items():
        if isinstance(meaning, str):
            meaning = CrmStage(stage=meaning or None)
        meanings[stage_key(value)] = meaning
    return meanings


#: Columns leadscore writes itself (``leadscore export crm``): never read back as attributes,
#: so an export imported again changes nothing.
OWN_PREFIX = "leadscore_"


def _normal(column: str) -> str:
    return column.strip().lower()


def suggested(columns: list[str]) -> str:
    """The mapping a header suggests: ``hubspot``, ``salesforce`` or ``none``."""
    names = {_normal(c) for c in columns}
    hits = {crm: len(names & marks) for crm, marks in _MARKS.items()}
    if hits["hubspot"] == hits["salesforce"]:
        return "none"
    return max(hits, key=lambda crm: hits[crm])


def column_table(columns: list[str], mapping: str) -> dict[str, str]:
    """Normalised header -> attribute name, for the named mapping or (``auto``) the one the
    header suggests."""
    if mapping == "auto":
        mapping = suggested(columns)
    if mapping not in MAPPINGS:
        raise InputError(
            f"unknown column mapping {mapping!r}; use one of auto, {', '.join(MAPPINGS)}"
        )
    return {**GENERIC, **MAPPINGS[mapping]}


def apply(record: dict[str, Any], table: dict[str, str]) -> dict[str, Any]:
    """Rename a record's keys by ``table``; other columns keep their name, lower-cased with
    spaces as underscores, and leadscore's own columns (``OWN_PREFIX``) are left out."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        normal = _normal(key)
        name = table.get(normal, normal.replace(" ", "_"))
        if not name.startswith(OWN_PREFIX):
            out[name] = value
    return out


def email_key(value: object) -> str | None:
    """The lead id an email gives when a file has no id column: the address trimmed and
    lower-cased (so ``Ann@X.com `` and ``ann@x.com`` are one lead); None for no address."""
    if not isinstance(value, str):
        return None
    key = value.strip().lower()
    return key if "@" in key.strip("@") else None
