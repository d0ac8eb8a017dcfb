"""API keys from the CLI: create, list (prefixes only), revoke; a revoked key is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from leadscore import Project
from leadscore.cli import app
from leadscore.service import auth
from leadscore.service.app import create_app

runner = CliRunner()


def test_create_list_and_revoke(
    project_on_each_database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = project_on_each_database
    made = runner.invoke(app, ["keys", "create", "--scope", "read", "--name", "crm"])
    assert made.exit_code == 0, made.output
    key = made.stdout.strip()
    assert key.startswith("ls_read_") and "shown only this once" in made.stderr
    runner.invoke(app, ["keys", "create", "--name", "site"])

    listed = runner.invoke(app, ["keys", "list"])
    assert listed.exit_code == 0
    lines = listed.stdout.strip().splitlines()
    assert len(lines) == 2
    assert key not in listed.stdout  # only a prefix is shown: the key is not stored
    prefix, scope, name = lines[0].split()[:3]
    assert key.startswith(prefix.removesuffix("...")) and (scope, name) == ("read", "crm")
    assert lines[0].endswith("in use")

    served = create_app(Project.find(project))
    client = TestClient(served)
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/leads", headers=headers).status_code == 200

    revoked = runner.invoke(app, ["keys", "revoke", prefix])
    assert revoked.exit_code == 0, revoked.output
    assert "Revoked the read key" in revoked.stderr
    assert "revoked 20" in runner.invoke(app, ["keys", "list"]).stdout.splitlines()[0]
    # the service trusted the key it checked a moment ago; once that lapses, it is refused
    monkeypatch.setattr(auth, "KEY_CACHE_SECONDS", 0.0)
    served.state.trusted_keys.clear()
    assert client.get("/v1/leads", headers=headers).status_code == 401
    served.state.store.close()


def test_revoking_an_unknown_key_says_so(project_on_each_database: Path) -> None:
    result = runner.invoke(app, ["keys", "revoke", "ls_read_nope"])
    assert result.exit_code == 1
    assert "no API key 'ls_read_nope'" in result.stderr
    assert "Traceback" not in result.output
