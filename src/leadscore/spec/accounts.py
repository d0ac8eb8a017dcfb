"""Accounts: which company a lead belongs to, and the account facts rules may read.

A lead's account is its ``account_id`` attribute, else its ``company_id``, else the domain of
its ``email`` when that is a company domain (never a free-mail or disposable one). Leads with
none of these form an account of their own. The store computes the account once per lead at
import; the engines read it from there.

Account facts are read by predicates as ``account.<fact>`` fields, beside the lead's own
attributes: ``account.id``, ``account.leads`` (leads of the account the model applies to),
``account.engaged_leads`` (those whose engagement reaches ``accounts.engaged_min``),
``account.engagement`` (their engagement summed, in points) and one count per
``accounts.counts`` entry (leads with at least one matching event).
"""

from __future__ import annotations

from collections.abc import Mapping

from leadscore.spec.domains import email_domain, is_company_domain
from leadscore.spec.predicates import is_missing

#: Attributes naming the account directly, in order of precedence.
KEY_ATTRIBUTES = ("account_id", "company_id")
EMAIL_ATTRIBUTE = "email"
#: The prefix of account facts in predicate fields.
PREFIX = "account."
#: The facts every model has; ``accounts.counts`` adds named ones.
BUILT_IN_FACTS = ("id", "leads", "engaged_leads", "engagement")


def account_key_text(value: object) -> str | None:
    """An ``account_id``/``company_id`` value as an account id (None when missing)."""
    if is_missing(value) or isinstance(value, dict | list):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def company_domain(value: object) -> str | None:
    """The company domain of an email address, or None (not an address, or free mail)."""
    domain = email_domain(value)
    return domain if domain is not None and is_company_domain(domain) else None


def account_of(attributes: Mapping[str, object]) -> str | None:
    """The lead's account id (see the module docstring), or None when it has none.

    Examples:
        >>> account_of({"company_id": 42, "email": "ann@acme.example"})
        '42'
        >>> account_of({"email": "Ann@ACME.example"})
        'acme.example'
        >>> account_of({"email": "ann@gmail.com"}) is None
        True
    """
    for name in KEY_ATTRIBUTES:
        key = account_key_text(attributes.get(name))
        if key is not None:
            return key
    return company_domain(attributes.get(EMAIL_ATTRIBUTE))


def fact_name(field: str) -> str | None:
    """``account.leads`` -> ``leads``; None for a field that is not an account fact."""
    return field[len(PREFIX) :] if field.startswith(PREFIX) else None
