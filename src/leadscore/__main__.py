"""``python -m leadscore`` runs the CLI."""

from __future__ import annotations

from leadscore.cli import main

main()
