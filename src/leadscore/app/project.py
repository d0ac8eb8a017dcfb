"""The project folder the CLI works on: ``leadscore.toml``, ``models/*.yaml``, the database.

Like git or dbt, commands find the project from the current folder upwards.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from leadscore.app.model_checks import check_names
from leadscore.errors import ConfigError, Issue, ModelFileError, NotFoundError
from leadscore.settings import Settings
from leadscore.spec.loader import default_model_text, load_model
from leadscore.spec.model import ScoringModel

if TYPE_CHECKING:
    from leadscore.app.preparations import Preparations
    from leadscore.store.store import Store

CONFIG_FILE = "leadscore.toml"
MODELS_DIR = "models"
DEFAULT_DATABASE = "leadscore.db"
#: Where prepared batches are kept between runs (``Preparations``); safe to delete.
PREPARED_DIR = Path(".leadscore") / "prepared"

_CONFIG_TEMPLATE = """\
# leadscore project settings. Environment variables LEADSCORE_<NAME> override these.
# database_url = "postgresql+psycopg://localhost/leadscore"   # default: leadscore.db here
"""


@dataclass(frozen=True, slots=True)
class Project:
    root: Path
    settings: Settings

    @classmethod
    def init(cls, root: Path) -> Project:
        """Create a project folder with the default (brief) model; refuses to overwrite one."""
        if (root / CONFIG_FILE).exists():
            raise ConfigError(f"{root / CONFIG_FILE} already exists; this is already a project")
        (root / MODELS_DIR).mkdir(parents=True, exist_ok=True)
        (root / CONFIG_FILE).write_text(_CONFIG_TEMPLATE, encoding="utf-8")
        model_file = root / MODELS_DIR / "brief.yaml"
        if not model_file.exists():
            model_file.write_text(default_model_text(), encoding="utf-8")
        project = cls.open(root)
        project.store().close()
        return project

    @classmethod
    def open(cls, root: Path, settings: Settings | None = None) -> Project:
        config = root / CONFIG_FILE
        try:
            values = tomllib.loads(config.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{config} not found; run 'leadscore init' first") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config}: {exc}") from None
        base = settings if settings is not None else Settings()
        try:
            merged = Settings(**{**values, **base.model_dump(exclude_unset=True)})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
                f" (got {error['input']!r})"
                for error in exc.errors()
            )
            raise ConfigError(f"{config}: {problems}") from None
        return cls(root, merged)

    @classmethod
    def find(cls, start: Path, settings: Settings | None = None) -> Project:
        """The project containing ``start`` (searching parent folders, as git does)."""
        for folder in [start, *start.parents]:
            if (folder / CONFIG_FILE).exists():
                return cls.open(folder, settings)
        raise ConfigError(
            f"no {CONFIG_FILE} in {start} or any parent folder; run 'leadscore init' to create "
            "a project here, or cd into one"
        )

    @property
    def database_url(self) -> str:
        return self.settings.database_url or f"sqlite:///{self.root / DEFAULT_DATABASE}"

    def store(self) -> Store:
        # the database layer loads when a command first needs it: checking model files or
        # listing commands does not
        from leadscore.store.store import Store

        return Store.open(self.database_url)

    def event_names(self) -> set[str]:
        """The track event names stored in the project's database (``stored_event_names``:
        an SQLite database is read without the database layer's start-up)."""
        from leadscore.store.event_names import stored_event_names

        return stored_event_names(self.database_url)

    def preparations(self) -> Preparations:
        """Where this project's scoring runs keep their prepared batches (``PREPARED_DIR``)."""
        from leadscore.app.preparations import Preparations

        return Preparations(self.root / PREPARED_DIR)

    def model_files(self, files: Sequence[Path] | None = None) -> list[tuple[Path, ScoringModel]]:
        """Each model file (default: every one in ``models/``) with its model, validated
        together: every problem of every file at once (ModelFileError), and two files that
        give their models one name named (ConfigError)."""
        if files is None:
            files = sorted((self.root / MODELS_DIR).glob("*.y*ml"))
        loaded: list[tuple[Path, ScoringModel]] = []
        issues: list[Issue] = []
        for file in files:
            try:
                loaded.append((file, load_model(file)))
            except ModelFileError as exc:
                issues.extend(exc.issues)
        if issues:
            raise ModelFileError(issues)
        check_names(loaded)
        return loaded

    def models(self, only: str | None = None) -> list[ScoringModel]:
        """Every model file, validated together (all problems of all files reported at once)."""
        loaded = self.model_files()
        models = [model for _, model in loaded]
        names = [m.name for m in models]
        if only is not None:
            models = [m for m in models if m.name == only]
            if not models:
                raise NotFoundError(f"no model named {only!r}; models here: {names}")
        if not models:
            raise ConfigError(f"no model files in {self.root / MODELS_DIR}; add one (*.yaml)")
        return models


def open_store(url: str) -> Store:
    """The store at a database URL, opened on its own (the service's rescoring process opens
    the service's database so): migrated to the newest schema first."""
    from leadscore.store.store import Store

    return Store.open(url)
