"""Property-style API test: schemathesis generates requests from the service's own OpenAPI
document, valid and invalid, sends them over a real socket and checks every answer against
the document (no 5xx, documented status codes, content types and bodies; invalid data
rejected)."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.conftest import examples
from tests.service.serve import serving
from tests.service.test_ingestion import Service

#: The checks left out. The service judges meaning that no JSON schema can say: a timestamp
#: too far in the future, a model name that must exist, a model file's rules, a batch whose
#: messages are all bad. So "every schema-valid request is accepted" cannot hold; the valid
#: requests are the hand-computed tests' business. Everything else is checked: no 5xx,
#: documented statuses, content types and bodies, invalid data rejected, keys required.
MEANING = [schemathesis.checks.positive_data_acceptance]


#: Webhooks schemathesis creates may only go to this machine (nothing leaves it).
LOOPBACK = ["127.0.0.1", "localhost"]


def test_every_operation_keeps_to_the_openapi_document(tmp_path: Path, database_url: str) -> None:
    service = Service(tmp_path, database_url, webhook_hosts=LOOPBACK)
    auth = {"Authorization": f"Bearer {service.admin}"}
    try:
        with serving(service.app) as url:
            schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
            operations = [result.ok() for result in schema.get_all_operations()]
            paths = {operation.path for operation in operations}
            assert {"/v1/screen", "/v1/group", "/v1/alias"} <= paths  # every route
            assert len(operations) >= 18

            for operation in operations:

                @given(case=operation.as_strategy())
                @settings(
                    max_examples=examples(20),
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                )
                def check(case: schemathesis.Case) -> None:
                    case.call_and_validate(headers=auth, excluded_checks=MEANING)

                check()
    finally:
        service.store.close()


def test_the_docs_page_lists_every_operation_and_needs_no_network(
    tmp_path: Path, database_url: str
) -> None:
    """``/docs`` is rendered on the server from the OpenAPI document: every path and method
    is on it, and nothing is loaded from elsewhere (FastAPI's page took Swagger UI from a
    CDN, blank offline)."""
    service = Service(tmp_path, database_url)
    page = service.client.get("/docs")
    assert page.status_code == 200
    document = service.client.get("/openapi.json").json()
    for path, item in document["paths"].items():
        for method in item:
            assert f"{method}</span> <code>{path}</code>" in page.text, (method, path)
    assert "<script" not in page.text and "cdn" not in page.text.lower()
    assert 'src="http' not in page.text and 'href="http' not in page.text
    assert service.client.get("/redoc").status_code == 404
    service.store.close()
