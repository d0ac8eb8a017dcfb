"""Fuzzing what faces the outside (issue 14), through the real HTTP app on each database:
Segment batches mixing valid messages with arbitrary hostile ones never get a 5xx, and every
valid message is stored whatever its neighbours are; model files, valid or mangled, get an
answer (201 or 400, exit 0 or 1) within 2 seconds and never a traceback.

Which messages are valid is decided by how they are generated (from the documented rules in
docs/service.md, "Limits"), not by asking the code.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from leadscore.cli import app as cli
from leadscore.spec.loader import default_model_text
from leadscore.store import schema
from tests.conftest import examples
from tests.service.test_ingestion import Service

FUZZ = settings(
    max_examples=examples(120),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Text a store can keep: no unpaired surrogates (Cs), no NUL.
SAFE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=30,
)
ID = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.@", min_size=1, max_size=40)
JSON_SAFE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | SAFE_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(SAFE_TEXT, inner, max_size=4),
    max_leaves=12,
)
#: Anything JSON can spell, and more: NaN, infinities, surrogates, NULs, 200-digit numbers.
WILD = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**200), max_value=10**200)
    | st.floats()
    | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
FIELDS = ["type", "userId", "anonymousId", "messageId", "event", "name", "timestamp",
          "properties", "traits", "context"]  # fmt: skip


@st.composite
def valid_messages(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["identify", "track", "page"]))
    ago = draw(st.integers(min_value=0, max_value=10 * 365 * 86_400))
    when = datetime.now(UTC) - timedelta(seconds=ago)
    message: dict[str, Any] = {
        "type": kind,
        "userId": draw(ID),
        "messageId": f"fuzz-{uuid.uuid4().hex}",
        "timestamp": when.isoformat(),
    }
    if kind == "identify":
        message["traits"] = draw(st.dictionaries(SAFE_TEXT, JSON_SAFE, max_size=5))
    else:
        message["properties"] = draw(st.dictionaries(SAFE_TEXT, JSON_SAFE, max_size=5))
    if kind == "track":
        message["event"] = draw(SAFE_TEXT.filter(lambda name: bool(name.strip())))
    return message


@st.composite
def hostile_items(draw: st.DrawFn) -> Any:
    """A valid message with one field replaced by anything, or not a message at all."""
    if draw(st.booleans()):
        return draw(WILD)
    message = draw(valid_messages())
    message[draw(st.sampled_from(FIELDS))] = draw(WILD)
    return message


def stored_message_ids(service: Service, ids: list[str]) -> set[str]:
    events = schema.events
    with service.store.engine.connect() as conn:
        query = sa.select(events.c.message_id).where(events.c.message_id.in_(ids))
        return set(conn.execute(query).scalars())


@FUZZ
@given(
    items=st.lists(
        st.tuples(st.booleans(), st.data()),
        min_size=1,
        max_size=8,
    )
)
def test_a_batch_never_gets_5xx_and_its_valid_messages_are_stored(
    service: Service, items: list[tuple[bool, st.DataObject]]
) -> None:
    batch = [data.draw(valid_messages() if valid else hostile_items()) for valid, data in items]
    valid_at = [i for i, (valid, _) in enumerate(items) if valid]
    body = json.dumps({"batch": batch}, allow_nan=True)  # surrogates go as \\udXXX escapes
    answer = service.client.post(
        "/v1/batch",
        content=body.encode(),
        headers={"Authorization": f"Bearer {service.ingest}", "Content-Type": "application/json"},
    )
    assert answer.status_code < 500, answer.text
    if not valid_at:
        return
    assert answer.status_code == 200, answer.text
    result = answer.json()
    rejected = {r["index"] for r in result["rejected"]}
    assert not rejected & set(valid_at), result["rejected"]
    assert result["accepted"] + len(rejected) == len(batch)
    events = [batch[i]["messageId"] for i in valid_at if batch[i]["type"] != "identify"]
    assert stored_message_ids(service, events) == set(events)
    for i in valid_at:
        if batch[i]["type"] == "identify":
            assert service.lead(batch[i]["userId"]).status_code == 200


MODEL_TEXT = default_model_text()


@st.composite
def model_texts(draw: st.DrawFn) -> str:
    """The brief's model mangled (a cut, a splice, a character changed), or any YAML."""
    choice = draw(st.integers(min_value=0, max_value=3))
    if choice == 0:
        start = draw(st.integers(min_value=0, max_value=len(MODEL_TEXT)))
        end = draw(st.integers(min_value=start, max_value=len(MODEL_TEXT)))
        return MODEL_TEXT[:start] + draw(st.text(max_size=40)) + MODEL_TEXT[end:]
    if choice == 1:
        lines = MODEL_TEXT.splitlines()
        kept = draw(st.lists(st.sampled_from(lines), max_size=len(lines)))
        return "\n".join(kept) + "\n"
    if choice == 2:
        data = draw(st.dictionaries(st.text(max_size=12), WILD, max_size=6))
        return yaml.safe_dump(data, allow_unicode=True)
    return draw(st.text(max_size=500))


@FUZZ
@given(text=model_texts())
def test_model_files_get_an_answer_within_2_seconds(
    service: Service, tmp_path: Path, text: str
) -> None:
    headers = {"Authorization": f"Bearer {service.admin}", "Content-Type": "application/yaml"}
    body = text.encode("utf-8", "replace")
    started = time.perf_counter()
    answer = service.client.post("/v1/models", content=body, headers=headers)
    assert time.perf_counter() - started < 2
    assert answer.status_code in (201, 400), answer.text

    path = tmp_path / "fuzzed.yaml"
    path.write_bytes(body)
    started = time.perf_counter()
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert time.perf_counter() - started < 2
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
