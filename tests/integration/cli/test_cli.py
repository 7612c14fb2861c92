"""The `autonomos` admin commands, on a fresh SQLite data dir, with readable errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from autonomos.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    return {"AUTONOMOS_DATA_DIR": str(tmp_path / "data"), "AUTONOMOS_LOG_LEVEL": "WARNING"}


def run(env: dict[str, str], *args: str, **kw: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env={**env, **kw})


def test_migrate_up_and_down(env: dict[str, str]) -> None:
    r = run(env, "migrate")
    assert r.exit_code == 0, r.output
    r = run(env, "migrate", "--downgrade", "--revision", "base")
    assert r.exit_code == 0 and "base" in r.output
    assert run(env, "migrate").exit_code == 0


def test_tenants_and_users(env: dict[str, str]) -> None:
    r = run(
        env,
        "tenants",
        "create",
        "Acme",
        "--admin-email",
        "boss@example.com",
        AUTONOMOS_ADMIN_PASSWORD="a long password",
    )
    assert r.exit_code == 0, r.output
    r = run(env, "tenants", "list", "--json")
    assert r.exit_code == 0 and '"Acme"' in r.output
    r = run(
        env,
        "users",
        "create",
        "--tenant",
        "Acme",
        "--email",
        "ops@example.com",
        "--role",
        "operator",
        AUTONOMOS_USER_PASSWORD="another long pw",
    )
    assert r.exit_code == 0 and "operator" in r.output, r.output


@pytest.mark.parametrize(
    "args,extra,code,message",
    [
        (
            ("tenants", "create", "Acme2", "--admin-email", "not-an-email"),
            {"AUTONOMOS_ADMIN_PASSWORD": "a long password"},
            2,
            "email",
        ),
        (
            ("tenants", "create", "Acme3", "--admin-email", "x@example.com"),
            {"AUTONOMOS_ADMIN_PASSWORD": "short"},
            2,
            "password",
        ),
        (
            ("users", "create", "--tenant", "Nobody", "--email", "u@example.com"),
            {"AUTONOMOS_USER_PASSWORD": "a long password"},
            1,
            "no tenant",
        ),
        (
            ("users", "create", "--tenant", "Acme", "--email", "u@example.com", "--role", "god"),
            {"AUTONOMOS_USER_PASSWORD": "a long password"},
            2,
            "role",
        ),
        (("migrate",), {"AUTONOMOS_RAY_PORT": "6379"}, 2, "Redis"),
        (
            ("migrate",),
            {"AUTONOMOS_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/x"},
            1,
            "migration failed",
        ),
    ],
)
def test_errors_are_readable(
    env: dict[str, str], args: tuple[str, ...], extra: dict[str, str], code: int, message: str
) -> None:
    r = run(env, *args, **extra)
    assert r.exit_code == code, r.output
    assert message.lower() in r.output.lower()
    assert "Traceback" not in r.output


def test_duplicate_tenant_is_an_error(env: dict[str, str]) -> None:
    args = ("tenants", "create", "Dup", "--admin-email", "d1@example.com")
    assert run(env, *args, AUTONOMOS_ADMIN_PASSWORD="a long password").exit_code == 0
    r = run(
        env,
        "tenants",
        "create",
        "Dup",
        "--admin-email",
        "d2@example.com",
        AUTONOMOS_ADMIN_PASSWORD="a long password",
    )
    assert r.exit_code == 1 and "already exists" in r.output
