"""Choices of the service that the CLI offers too: light to import, so that ``leadscore``
starts without loading the web stack."""

from __future__ import annotations

from typing import Literal

#: When ingestion answers: once the leads' new results are kept ("scored"), or once the
#: messages are stored ("stored"; the results follow within the next rescoring round).
AnswerAfter = Literal["scored", "stored"]
