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


def test_ingest_files_is_idempotent(env: dict[str, str], tmp_path: Path) -> None:
    src = tmp_path / "exports"
    src.mkdir()
    (src / "accounts.csv").write_text("Id,Name\n1,Acme\n2,Globex\n3,Initech\n")
    assert (
        run(
            env,
            "tenants",
            "create",
            "Ingest Co",
            "--admin-email",
            "i@example.com",
            AUTONOMOS_ADMIN_PASSWORD="a long password",
        ).exit_code
        == 0
    )
    cid = "6f1c1d1e-0000-4000-8000-000000000001"
    first = run(
        env,
        "ingest",
        "files",
        "--connection-id",
        cid,
        "--namespace",
        "Ingest Co",
        "--path",
        str(src),
    )
    assert first.exit_code == 0, first.output
    assert "succeeded" in first.output and " 3 " in first.output
    again = run(env, "ingest", "files", "--connection-id", cid, "--namespace", "Ingest Co")
    assert again.exit_code == 0, again.output
    assert " 0 " in again.output  # nothing new to read: no duplicate rows


@pytest.mark.parametrize(
    "args,code,message",
    [
        (("--connection-id", "not-a-uuid", "--namespace", "x"), 2, "UUID"),
        (
            ("--connection-id", "6f1c1d1e-0000-4000-8000-000000000002", "--namespace", "Nobody"),
            1,
            "no tenant",
        ),
        (
            (
                "--connection-id",
                "6f1c1d1e-0000-4000-8000-000000000002",
                "--namespace",
                "x",
                "--path",
                "/nonexistent",
            ),
            2,
            "not a directory",
        ),
    ],
)
def test_ingest_errors(env: dict[str, str], args: tuple[str, ...], code: int, message: str) -> None:
    r = run(env, "ingest", "files", *args)
    assert r.exit_code == code, r.output
    assert message.lower() in r.output.lower() and "Traceback" not in r.output


def test_ingest_never_grants_the_data_dir(env: dict[str, str], tmp_path: Path) -> None:
    data = Path(env["AUTONOMOS_DATA_DIR"])
    (data / "landing").mkdir(parents=True)
    cid = "6f1c1d1e-0000-4000-8000-000000000003"
    for path in (data, data / "landing", tmp_path):  # the data dir, inside it, around it
        r = run(
            env, "ingest", "files", "--connection-id", cid, "--namespace", "x", "--path", str(path)
        )
        assert r.exit_code == 2, r.output
        assert "data dir" in r.output and "Traceback" not in r.output
