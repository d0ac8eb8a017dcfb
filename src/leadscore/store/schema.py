"""The tables: leads and their versions, identities, events, stage transitions (SQLAlchemy).

Portable types only, so PostgreSQL can replace the embedded SQLite database: times are BIGINT
microseconds since the epoch (UTC), JSON is stored as text, ids are text.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

leads = Table(
    "leads",
    metadata,
    Column("lead_id", String(255), primary_key=True),
    Column("attributes", Text, nullable=False, default="{}"),
    Column("updated_at", BigInteger, nullable=False),
    # spec.accounts.account_of(attributes), kept in step with the attributes on every write
    Column("account_id", String(255), nullable=True),
    Index("ix_leads_account", "account_id"),
)

#: Every change of a lead's attributes: the lead's attributes as of T are those of its last
#: row with ``valid_from`` at or before T (the first row counts from the start of time).
lead_versions = Table(
    "lead_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lead_id", String(255), nullable=False),
    Column("valid_from", BigInteger, nullable=False),
    Column("attributes", Text, nullable=False),
    Column("account_id", String(255), nullable=True),
    Index("ix_lead_versions_lead", "lead_id", "valid_from"),
    Index("ix_lead_versions_from", "valid_from"),
)

#: An account's own record: the company traits Segment ``group`` calls gave it (as lead
#: attributes: ``company``, ``industry``, ``company.<trait>`` ...), which every lead of the
#: account shares (``store.account_traits``).
accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(255), primary_key=True),
    Column("traits", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

#: Facts about the database itself: ``store_id`` (random, made once) tells two databases
#: apart, so that nothing kept outside the database is taken for another's.
store_info = Table(
    "store_info",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

identities = Table(
    "identities",
    metadata,
    Column("anonymous_id", String(255), primary_key=True),
    Column("lead_id", String(255), nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("message_id", String(255), primary_key=True),
    Column("lead_id", String(255), nullable=True),
    Column("anonymous_id", String(255), nullable=True),
    Column("type", String(16), nullable=False),
    Column("event", String(255), nullable=True),
    Column("timestamp", BigInteger, nullable=False),
    Column("properties", Text, nullable=False, default="{}"),
    Column("received_at", BigInteger, nullable=False),
    Index("ix_events_lead_ts", "lead_id", "timestamp"),
    Index("ix_events_anonymous", "anonymous_id"),
)

#: Every lifecycle change of a lead under a model, append-only: the stage a lead is in as of T
#: is the ``to_stage`` of its last row at or before T. ``kind`` is advance, withdraw, recycle
#: or crm (a stage imported from the CRM).
stage_transitions = Table(
    "stage_transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lead_id", String(255), nullable=False),
    Column("model", String(255), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("from_stage", String(255), nullable=True),
    Column("to_stage", String(255), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("recorded_at", BigInteger, nullable=False),
    Index("ix_transitions_model_lead_at", "model", "lead_id", "at"),
)

#: API keys of the service, stored as SHA-256 digests (a key is 192 random bits, so a plain
#: digest cannot be reversed); ``prefix`` is the key's visible start, to tell keys apart.
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("prefix", String(32), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("name", String(255), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
)

#: Each lead's latest result per model, as the service keeps it up to date (milli-points).
lead_scores = Table(
    "lead_scores",
    metadata,
    Column("lead_id", String(255), primary_key=True),
    Column("model", String(255), primary_key=True),
    Column("fit", BigInteger, nullable=False),
    Column("engagement", BigInteger, nullable=False),
    Column("score", BigInteger, nullable=False),
    Column("tier", String(255), nullable=True),
    Column("grade", String(255), nullable=True),
    Column("stage", String(255), nullable=True),
    Column("as_of", BigInteger, nullable=False),
)
#: Each lead's prediction by the version in use of each trained model (``store.predictions``),
#: kept like point results so lists rank and filter by it: the calibrated probability, the
#: 0-100 score in tenths (the order: an integer, like the point scores) and the top reasons.
predictions = Table(
    "predictions",
    metadata,
    Column("lead_id", String(255), primary_key=True),
    Column("model", String(255), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("probability", Float, nullable=False),
    Column("score_tenths", Integer, nullable=False),
    Column("reasons", Text, nullable=False),
    Column("as_of", BigInteger, nullable=False),
)
Index(
    "ix_predictions_rank",
    predictions.c.model,
    predictions.c.score_tenths.desc(),
    predictions.c.lead_id,
)
#: The ranked list's order (``scores.ranked_scores``): score, then the unclipped total, then
#: the id, so a page is read from the index and stops after its rows, however many leads
#: share the clip's 100.
Index(
    "ix_lead_scores_rank",
    lead_scores.c.model,
    lead_scores.c.score.desc(),
    (lead_scores.c.fit + lead_scores.c.engagement).self_group().desc(),
    lead_scores.c.lead_id,
)
#: The list ordered by what leads do (``scores.ORDERS``). This index makes keeping all results
#: slower (1M leads: 20.4 s -> 28.3 s, BENCHMARKS.md); fit has none (with it: 33.6 s), its
#: grades are a filter.
Index(
    "ix_lead_scores_engagement",
    lead_scores.c.model,
    lead_scores.c.engagement.desc(),
    lead_scores.c.score.desc(),
    lead_scores.c.lead_id,
)

#: What ``leadscore export crm`` last wrote of each lead, per CRM format and model: a digest of
#: the exported values, so the next export writes only the leads whose values changed.
crm_exports = Table(
    "crm_exports",
    metadata,
    Column("target", String(32), primary_key=True),
    Column("model", String(255), primary_key=True),
    Column("lead_id", String(255), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("exported_at", BigInteger, nullable=False),
)

#: People who use the dashboard: an argon2 hash of the password (never the password), a role
#: (sales, ops, admin).
users = Table(
    "users",
    metadata,
    Column("email", String(255), primary_key=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("disabled_at", BigInteger, nullable=True),
)

#: Signed-in dashboard sessions: a SHA-256 digest of the cookie's token (a stolen database
#: holds no usable session), the CSRF token its forms carry, and when it ends.
dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("email", String(255), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

#: What became of a lead (converted, won, lost), with its value and time: the labels
#: predictive scoring learns from and evaluations are measured against.
outcomes = Table(
    "outcomes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lead_id", String(255), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("value", Float, nullable=True),
    Column("at", BigInteger, nullable=False),
    Column("recorded_at", BigInteger, nullable=False),
    Index("ix_outcomes_lead", "lead_id"),
)

#: What sales said about a lead (good fit, bad fit, not interested), with a note.
feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lead_id", String(255), nullable=False),
    Column("verdict", String(32), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("at", BigInteger, nullable=False),
    Index("ix_feedback_lead", "lead_id"),
)

#: Leads erased on request: the only trace left is this row (a digest of the id, not the id).
erasures = Table(
    "erasures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lead_digest", String(64), nullable=False),
    Column("rows_deleted", Integer, nullable=False),
    Column("at", BigInteger, nullable=False),
)

#: Leads whose stored events or attributes changed and whose kept results are not yet rescored:
#: written in the transaction that stores the change, removed in the one that keeps the new
#: results, so a crash between the two leaves the lead here to be rescored on restart.
unscored_leads = Table(
    "unscored_leads",
    metadata,
    Column("lead_id", String(255), primary_key=True),
    Column("since", BigInteger, nullable=False),
)

#: Webhook subscriptions: where to tell which changes of which model (``kinds`` and ``to`` are
#: JSON lists; ``threshold`` in milli-points, for threshold crossings).
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("url", Text, nullable=False),
    Column("secret", String(128), nullable=False),
    Column("model", String(255), nullable=True),
    Column("kinds", Text, nullable=False),
    Column("to_names", Text, nullable=True),
    Column("threshold", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
)

#: Deliveries owed (the outbox): written in the transaction that keeps the score change they
#: report, so a crash never loses or invents one; sent until answered 2xx (at least once, the
#: ``delivery_id`` lets the receiver drop repeats). ``status`` is pending, delivered or failed.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", String(64), primary_key=True),
    Column("webhook_id", String(64), nullable=False),
    Column("lead_id", String(255), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", BigInteger, nullable=False),
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("delivered_at", BigInteger, nullable=True),
    Column("last_error", Text, nullable=True),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_hook", "webhook_id", "created_at"),
    Index("ix_webhook_deliveries_lead", "lead_id"),
)

#: Every delivery attempt, for the delivery log: HTTP status (null when no answer) and error.
webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(64), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("duration_ms", Float, nullable=False),
    Index("ix_webhook_attempts_delivery", "delivery_id"),
)
