"""Account ids for the batch engine when the caller has not given them (the store always does)."""

from __future__ import annotations

import json

import pyarrow as pa

from leadscore.spec.accounts import account_of


def with_account_ids(leads: pa.Table, *, compute: bool) -> pa.Table:
    """``leads`` with its account_id column: ``account_of`` per lead when ``compute``, else
    empty (the store always provides the column; other callers rarely need it)."""
    if compute:
        ids = [account_of(json.loads(text or "{}")) for text in leads["attributes"].to_pylist()]
    else:
        ids = [None] * leads.num_rows
    return leads.append_column("account_id", pa.array(ids, pa.string()))
