"""Slack Incoming Webhook notifications, against a real local HTTP receiver."""

from __future__ import annotations

import pytest

from autonomos.aam.repair.notify import PendingItem, SlackNotifier, slack_message
from tests.conftest import free_port
from tests.helpers.repair import Receiver

ITEMS = [
    PendingItem("p1", "remap", "crm", "accounts", "'a' was renamed to 'b'", 0.8, True),
    PendingItem("p2", "mark_broken", "crm", "accounts", "mapped field 'c' is gone", 1.0, True),
]


async def test_posts_one_message_per_batch(receiver: Receiver) -> None:
    ok = await SlackNotifier(receiver.url).pending("Acme", ITEMS)
    assert ok
    (req,) = receiver.requests
    assert req["path"] == "/services/T000/B000/XXXX"
    assert req["content_type"] == "application/json"
    payload = req["json"]
    assert payload["text"].startswith("AutonomOS: 2 repair proposals need review (Acme)")
    assert "1 broken mapping" in payload["text"] and "`p2`" in payload["text"]
    assert [b["type"] for b in payload["blocks"]] == ["header", "section"]


async def test_nothing_pending_sends_nothing(receiver: Receiver) -> None:
    assert await SlackNotifier(receiver.url).pending("Acme", []) is False
    assert receiver.requests == []


async def test_failures_are_logged_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    with Receiver(status=500) as refusing:
        assert await SlackNotifier(refusing.url).pending("Acme", ITEMS) is False
    with Receiver(delay_s=1.0) as slow:
        assert await SlackNotifier(slow.url, timeout_s=0.2).pending("Acme", ITEMS) is False
    closed = f"http://127.0.0.1:{free_port()}/services/secret-path"
    assert await SlackNotifier(closed).pending("Acme", ITEMS) is False
    assert "secret-path" not in caplog.text  # the webhook URL is a secret


def test_long_lists_are_truncated() -> None:
    many = [PendingItem(str(i), "cast", "c", "s", "x", 0.5, False) for i in range(25)]
    msg = slack_message("T", many, link="https://autonomos.example/repair")
    assert "and 15 more" in msg["text"] and "Review them" in msg["text"]
