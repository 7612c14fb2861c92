"""Shared by the cluster-file tests: where the files are, and the settings a node gets."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
import yaml

CLUSTER = Path(__file__).resolve().parents[3] / "cluster"


def load(name: str) -> dict:
    return yaml.safe_load((CLUSTER / name).read_text())


def node_env() -> dict[str, str]:
    """cluster/autonomos.env.example as an operator fills it in: each <placeholder>
    replaced by a strong random value (a Fernet key where one is asked for)."""
    from cryptography.fernet import Fernet

    env = {}
    for line in (CLUSTER / "autonomos.env.example").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, value = line.partition("=")

        def fill(m: re.Match[str]) -> str:
            hint = m.group(1).lower()
            if "fernet" in hint:
                return Fernet.generate_key().decode()
            if "host" in hint:
                return "db.internal" if "postgres" in hint else "redis.internal"
            if "bucket" in hint:
                return "acme-autonomos"
            return secrets.token_urlsafe(32)

        env[name.strip()] = re.sub(r"<([^>]*)>", fill, value.strip())
    return env


@pytest.fixture
def filled_env() -> dict[str, str]:
    return node_env()
