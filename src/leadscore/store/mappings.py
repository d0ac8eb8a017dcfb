"""Column mappings for lead exports: HubSpot and Salesforce headers -> leadscore attributes.

Any other column keeps its name, lower-cased with spaces as underscores (``Lead Source`` ->
``lead_source``), so custom fields are usable in rules without configuration.
"""

from __future__ import annotations

from typing import Any

from leadscore.errors import InputError

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
    "lifecycle stage": "crm_lifecycle_stage",
    "associated company id": "company_id",
    "company id": "company_id",
}

SALESFORCE = {
    "lead id": "lead_id",
    "contact id": "lead_id",
    "email": "email",
    "first name": "first_name",
    "last name": "last_name",
    "title": "job_title",
    "company": "company",
    "account name": "company",
    "no. of employees": "company_size",
    "employees": "company_size",
    "industry": "industry",
    "country": "country",
    "mailing country": "country",
    "phone": "phone",
    "lead source": "lead_source",
    "account id": "account_id",
}

GENERIC = {"id": "lead_id", "userid": "lead_id", "user_id": "lead_id", "lead_id": "lead_id"}

MAPPINGS = {"hubspot": HUBSPOT, "salesforce": SALESFORCE, "none": {}}


def _normal(column: str) -> str:
    return column.strip().lower()


def column_map(columns: list[str], mapping: str) -> dict[str, str]:
    """Source column -> attribute name, for the named mapping or the one the header suggests."""
    names = {_normal(c) for c in columns}
    if mapping == "auto":
        if "record id" in names:
            mapping = "hubspot"
        elif names & {"lead id", "contact id"}:
            mapping = "salesforce"
        else:
            mapping = "none"
    if mapping not in MAPPINGS:
        raise InputError(
            f"unknown column mapping {mapping!r}; use one of auto, {', '.join(MAPPINGS)}"
        )
    table = {**GENERIC, **MAPPINGS[mapping]}
    return {c: table.get(_normal(c), _normal(c).replace(" ", "_")) for c in columns}


def apply(record: dict[str, Any], columns: dict[str, str]) -> dict[str, Any]:
    """Rename a record's keys; columns first seen after the header was mapped are normalised."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = columns.get(key) or GENERIC.get(_normal(key), _normal(key).replace(" ", "_"))
        out[name] = value
    return out
