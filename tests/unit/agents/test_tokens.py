"""Third-party agent tokens: random, hashed, parsed strictly."""

from __future__ import annotations

import uuid

import pytest

from autonomos.agents import tokens
from autonomos.agents.errors import AgentAuthError


def test_issue_parse_and_match() -> None:
    tenant, agent = uuid.uuid4(), uuid.uuid4()
    token = tokens.issue(tenant, agent)
    assert tokens.parse(token) == (tenant, agent)
    stored = tokens.digest(token)
    assert len(stored) == 64 and token not in stored
    assert tokens.matches(token, stored)
    assert not tokens.matches(token + "x", stored)
    assert not tokens.matches(token, None)
    other = tokens.issue(tenant, agent)
    assert other != token and not tokens.matches(other, stored)  # 256 random bits each
    assert tokens.hint(token) == f"…{token[-4:]}"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "aat",
        "rt.x.y",
        f"aat.{uuid.uuid4().hex}.{uuid.uuid4().hex}",
        f"aat.{uuid.uuid4().hex}.{uuid.uuid4().hex}.short",
        f"xxx.{uuid.uuid4().hex}.{uuid.uuid4().hex}.{'s' * 43}",
        f"aat.not-a-uuid.{uuid.uuid4().hex}.{'s' * 43}",
        "aat." + "a" * 600,
    ],
)
def test_malformed_tokens_are_refused_alike(bad: str) -> None:
    with pytest.raises(AgentAuthError, match=r"^invalid agent token$"):
        tokens.parse(bad)
