"""The job state machine, submission ids and what settings a job is given (no services)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from autonomos.jobs.errors import JobStateError
from autonomos.jobs.service import dedupe_key, job_env, submission_id
from autonomos.jobs.state import JobStatus, transition
from tests.conftest import make_settings


def test_transitions() -> None:
    Q, P, R = JobStatus.QUEUED, JobStatus.PENDING, JobStatus.RUNNING
    S, F, X, L = JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.LOST
    for a, b in [(Q, P), (Q, R), (Q, S), (P, R), (P, F), (R, S), (R, X), (R, L), (F, Q), (L, Q)]:
        assert transition(a, b) is b
    for a, b in [(S, Q), (X, Q), (R, P), (R, Q), (S, F), (P, Q)]:
        with pytest.raises(JobStateError):
            transition(a, b)
    assert transition(R, R) is R
    assert {s for s in JobStatus if s.finished} == {S, F, X, L}
    assert {s for s in JobStatus if s.retryable} == {F, L}


def test_ids_are_deterministic() -> None:
    job, tenant = uuid.uuid4(), uuid.uuid4()
    assert submission_id("batch_map", job, 2) == f"autonomos-batch-map-{job.hex}-a2"
    assert dedupe_key(tenant, "batch_map", {"a": 1, "b": None}) == dedupe_key(
        tenant, "batch_map", {"b": None, "a": 1}
    )
    assert dedupe_key(tenant, "batch_map", {}) != dedupe_key(uuid.uuid4(), "batch_map", {})


def test_job_env_carries_no_secret(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        database_url="postgresql+asyncpg://app:s3cret@db:5432/x",
        migration_database_url="postgresql+asyncpg://owner@db:5432/x",
        redis_url="redis://:hunter2@redis:6379/0",
        jwt_secret="j" * 40,
        secrets_keys="k" * 44,
        slack_webhook_url="https://hooks.slack.com/services/T/B/XYZ",
        llm_api_key="sk-123",
        ray_address="10.0.0.1:6379",
        repair_threshold=0.95,
    )
    env = job_env(settings)
    assert env["AUTONOMOS_DATA_DIR"] == str(tmp_path.resolve())
    assert env["AUTONOMOS_REPAIR_THRESHOLD"] == "0.95"
    assert env["AUTONOMOS_SYNC_EXECUTOR"] == "inline"  # non-default, not secret
    text = repr(env)
    for secret in ("s3cret", "hunter2", "jjjj", "kkkk", "XYZ", "sk-123", "owner", "10.0.0.1"):
        assert secret not in text, secret
    plain = job_env(make_settings(tmp_path, database_url="postgresql+asyncpg://app@db/x"))
    assert plain["AUTONOMOS_DATABASE_URL"] == "postgresql+asyncpg://app@db/x"
