"""``leadscore serve`` and ``leadscore keys``: the HTTP service and its API keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leadscore.app.api_keys import SCOPES, create_key, described_keys, revoke_key
from leadscore.app.project import Project
from leadscore.cli.console import err, out
from leadscore.service.logs import LogFormat, log_config
from leadscore.service.options import AnswerAfter

keys_app = typer.Typer(no_args_is_help=True, help="API keys of the service.")


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    rescore_every: Annotated[
        float,
        typer.Option(
            help="Rescore every lead this often, in minutes, so that time moves scores and "
            "stages (0: never; `leadscore rescore` from cron does the same).",
            min=0,
        ),
    ] = 60,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            help="A web origin (https://www.example.com) whose pages may call the API, for "
            "tracking from the browser with an ingest key. Repeat for several; * allows any.",
        ),
    ] = None,
    answer_after: Annotated[
        AnswerAfter,
        typer.Option(
            help="When ingestion answers. stored: once the messages are stored, as Segment's "
            "API does; the results follow within a rescoring round (tens of milliseconds; "
            "under load, a round takes many leads at once), which keeps answers fast at high "
            "rates. A crash in between loses nothing: the restart rescores. scored: once the "
            "leads' new results are kept, for a client that reads the ranked list right after "
            "writing.",
        ),
    ] = "stored",
    log_format: Annotated[
        LogFormat,
        typer.Option(help="json: one JSON object per line, for log shippers; text: for people."),
    ] = "json",
) -> None:
    """Serve the project in the current folder over HTTP: Segment-compatible ingestion
    (/v1/identify, /v1/track, /v1/page, /v1/batch) and the lead API (/v1/leads/ID).

    Send events with an ingest key (`leadscore keys create --scope ingest`) as Segment's write
    key; read leads with a read key. Every event stored rescores its lead at once."""
    project = Project.find(Path.cwd())
    serve_project(project, host, port, rescore_every, cors_origin, answer_after, log_format)


def serve_project(
    project: Project,
    host: str = "127.0.0.1",
    port: int = 8000,
    rescore_every: float = 60,
    cors_origin: list[str] | None = None,
    answer_after: AnswerAfter = "stored",
    log_format: LogFormat = "json",
) -> None:
    """Serve ``project`` until stopped (``leadscore serve`` and ``leadscore demo --serve``)."""
    import logging.config

    import uvicorn

    from leadscore.service.app import create_app

    app = create_app(
        project,
        rescore_every=rescore_every * 60 or None,
        cors_origins=cors_origin,
        answer_after=answer_after,
        owns_process=True,
    )
    logging.config.dictConfig(log_config(log_format))
    logging.getLogger("leadscore").info("serving the project in %s", project.root)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


@keys_app.command("create")
def create(
    scope: Annotated[
        str, typer.Option(help=f"What the key may do: {', '.join(SCOPES)}.")
    ] = "ingest",
    name: Annotated[str, typer.Option(help="What the key is for, to tell keys apart.")] = "",
) -> None:
    """Create an API key and print it. Only its digest is stored: copy it now."""
    project = Project.find(Path.cwd())
    with project.store() as store:
        key = create_key(store, scope, name or scope)
    out.print(key, markup=False, highlight=False)
    err.print(f"Created an API key with scope {scope}. It is shown only this once.", markup=False)


@keys_app.command("list")
def listed() -> None:
    """Every API key: its prefix (the key itself is not stored), scope, name, when created
    and when revoked."""
    project = Project.find(Path.cwd())
    with project.store() as store:
        rows = described_keys(store)
    for row in rows:
        line = f"{row['prefix']}...  {row['scope']}  {row['name']}  created {row['created']}  "
        out.print(line + row["state"], markup=False, highlight=False)
    if not rows:
        err.print("No API keys yet: `leadscore keys create` makes one.", markup=False)


@keys_app.command("revoke")
def revoke(
    key: Annotated[str, typer.Argument(help="The key, or its prefix as `keys list` shows it.")],
) -> None:
    """Revoke an API key: the service refuses it from within 5 seconds on."""
    project = Project.find(Path.cwd())
    with project.store() as store:
        found = revoke_key(store, key.removesuffix("..."))
    err.print(
        f"Revoked the {found['scope']} key {found['prefix']}... ({found['name']}).", markup=False
    )
