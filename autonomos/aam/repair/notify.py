"""Slack Incoming Webhook notifications for new pending repair proposals.

A notification is best effort: a short timeout, failures logged, never raised, so a
slow or broken webhook never holds up drift handling.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["PendingItem", "SlackNotifier", "slack_message"]

log = logging.getLogger("autonomos.repair.notify")
MAX_LISTED = 10


@dataclass(frozen=True)
class PendingItem:
    id: str
    kind: str
    connection: str
    stream: str
    summary: str
    confidence: float
    destructive: bool


def _line(p: PendingItem) -> str:
    flag = ":warning: " if p.kind == "mark_broken" or p.destructive else ""
    return (
        f"{flag}*{p.kind}* `{p.stream}` ({p.confidence:.0%}"
        f"{', destructive' if p.destructive else ''}): {p.summary} — id `{p.id}`"
    )


def slack_message(
    tenant: str, items: Sequence[PendingItem], link: str | None = None
) -> dict[str, Any]:
    """The webhook payload: a plain ``text`` fallback plus Block Kit sections."""
    n = len(items)
    broken = sum(p.kind == "mark_broken" for p in items)
    head = f"AutonomOS: {n} repair proposal{'s' if n != 1 else ''} need review ({tenant})"
    if broken:
        head += f", {broken} broken mapping{'s' if broken != 1 else ''}"
    listed = [_line(p) for p in items[:MAX_LISTED]]
    if n > MAX_LISTED:
        listed.append(f"…and {n - MAX_LISTED} more")
    body = "\n".join(f"• {line}" for line in listed)
    if link:
        body += f"\n<{link}|Review them>"
    return {
        "text": f"{head}\n{body}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": head[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": body[:2900]}},
        ],
    }


class SlackNotifier:
    def __init__(self, webhook_url: str, *, timeout_s: float = 3.0, link: str | None = None):
        self.url, self.timeout_s, self.link = webhook_url, timeout_s, link

    async def pending(self, tenant: str, items: Sequence[PendingItem]) -> bool:
        """POST one message about ``items``; True when Slack answered 2xx."""
        if not items:
            return False
        payload = slack_message(tenant, items, self.link)
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                r = await client.post(self.url, json=payload)
        except httpx.HTTPError as e:
            # the webhook URL is a secret: never log it
            log.warning(
                "slack notification failed: %s: %s",
                type(e).__name__,
                str(e).replace(self.url, "<webhook>"),
            )
            return False
        if r.status_code // 100 != 2:
            log.warning("slack notification refused: HTTP %d %s", r.status_code, r.text[:200])
            return False
        return True
