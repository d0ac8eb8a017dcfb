"""Bot and email-scanner detection: what makes an email click or open not a person's.

Email security gateways (Proofpoint, Mimecast, Barracuda, Microsoft Safe Links ...) fetch
every link of a message within seconds of delivery, and inflate engagement scores in every
commercial tool. A model's ``bot_filter`` names the checked events; such an event is *filtered*
(stored, shown in explanations, worth no points and no activity) when any of these holds:

* its ``user_agent`` property names a known bot, scanner or HTTP library;
* ``same_second`` or more checked events of the lead fall in the same second;
* it comes at most ``after_delivery_seconds`` after a delivery event of the same lead that
  carries the same (text) ``key`` property, such as the message's ``email_id``.

Examples:
    >>> is_bot_user_agent("Mozilla/5.0 (compatible; Proofpoint URL Defense)")
    True
    >>> is_bot_user_agent("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15")
    False
"""

from __future__ import annotations

import regex
from pydantic import BaseModel, ConfigDict, Field

_BOT_AGENTS = regex.compile(
    r"bot\b|crawler|spider|slurp|scanner|preview|headless|phantomjs|python-requests|"
    r"python-urllib|\bcurl/|wget/|okhttp|go-http-client|java/|libwww|httpclient|"
    r"proofpoint|urldefense|mimecast|barracuda|messagelabs|symantec|fireeye|trend ?micro|"
    r"safelinks|microsoft office protection|forcepoint|sophos|ironport|cisco|zscaler|"
    r"google-safety|googleimageproxy",
    regex.IGNORECASE,
)


def is_bot_user_agent(value: object) -> bool:
    """True when a user-agent string names a known bot, scanner or HTTP library."""
    return isinstance(value, str) and _BOT_AGENTS.search(value) is not None


class BotFilter(BaseModel):
    """Which events are checked for scanners and bots, and how (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    events: list[str] = Field(
        default_factory=lambda: ["Email Link Clicked", "Email Opened"], min_length=1
    )
    user_agent: bool = True
    same_second: int | None = Field(default=2, ge=2)
    after_delivery_seconds: int | None = Field(default=10, ge=0)
    delivery_event: str = "Email Delivered"
    key: str = "email_id"
