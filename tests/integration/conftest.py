"""Fixtures shared by the integration tests: a real S3-compatible server on 127.0.0.1.

The server is moto's (``moto[server]``, a dev dependency) in its own process on a free
port: every request goes over HTTP through the same SDK code a cluster uses against
AWS, MinIO or Ceph. It is stopped by its own pid at the end of the session.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import _require, free_port


@dataclass(frozen=True)
class S3Server:
    endpoint: str  # http://127.0.0.1:<port>
    access_key: str = "autonomos-test"
    secret_key: str = "autonomos-test-secret"  # moto accepts any key

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
        )

    def new_bucket(self) -> str:
        name = f"landing-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def landing_settings(self, bucket: str, prefix: str = "zone") -> dict[str, str]:
        """``Settings`` fields that put the landing zone in ``bucket``."""
        return {
            "landing_url": f"s3://{bucket}/{prefix}",
            "landing_endpoint_url": self.endpoint,
            "landing_access_key_id": self.access_key,
            "landing_secret_access_key": self.secret_key,
        }

    def keys(self, bucket: str) -> list[str]:
        """Every object key in ``bucket`` (what any reader of the store can see), less the
        empty ``folder/`` markers pyarrow's S3 file system writes when it deletes a file."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        keys = (o for page in pages for o in page.get("Contents", []))
        return sorted(o["Key"] for o in keys if not (o["Key"].endswith("/") and o["Size"] == 0))


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    _require(importlib.util.find_spec("moto") is not None, "moto[server] is not installed")
    port = free_port()
    log = tempfile.TemporaryFile()  # moto logs every request: a pipe would fill and block
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = S3Server(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"moto's S3 server exited: {log.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{server.endpoint}/moto-api/", timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"moto's S3 server did not come up on {server.endpoint}")
            time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
