"""The landing zone on object storage, against a real S3-compatible server (moto's).

What a cluster relies on: batches land as objects addressed by URL, any process reads
them back through the zone, a writer killed in the middle of an upload leaves nothing a
reader can list or open, and the orphan sweep deletes uncommitted objects and nothing
else.
"""

from __future__ import annotations

import gc
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator

import pyarrow as pa
import pytest

from autonomos.aam.landing import LandingError, LandingZone, StorageOptions
from autonomos.jobs.mapping import sample_values
from tests.conftest import free_port
from tests.integration.conftest import S3Server


def zone_in(server: S3Server, bucket: str, endpoint: str | None = None) -> LandingZone:
    return LandingZone(
        f"s3://{bucket}/landing",
        StorageOptions(
            endpoint_url=endpoint or server.endpoint,
            access_key_id=server.access_key,
            secret_access_key=server.secret_key,
        ),
    )


def test_write_read_list_and_locate(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    zone = zone_in(s3_server, bucket)
    assert not zone.is_local and zone.tenant_dir(uuid.uuid4()) is None
    tid, cid = uuid.uuid4(), uuid.uuid4()
    batch = pa.record_batch({"id": [1, 2, 3], "email": ["a@x.io", "b@x.io", None]})
    value = zone.write(tid, cid, "contacts", batch)
    assert value.startswith(f"s3://{bucket}/landing/{tid}/{cid}/contacts/")
    assert value.endswith(".parquet")
    # one object per batch, nothing else (no folder markers, no temporary names)
    assert s3_server.keys(bucket) == [value.removeprefix(f"s3://{bucket}/")]
    assert zone.read([value]).to_batches()[0].equals(batch)
    assert zone.read_schema(value) == batch.schema
    assert zone.list_files(tid, cid, "contacts") == [value]
    assert sample_values(value, zone.open)["email"] == ("a@x.io", "b@x.io")
    # a URL outside this zone is refused, not fetched with the zone's credentials
    with pytest.raises(LandingError, match="outside the landing zone"):
        zone.locate("s3://someone-else/x.parquet")


def test_sweep_removes_only_uncommitted_old_objects(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    zone = zone_in(s3_server, bucket)
    tid, cid = uuid.uuid4(), uuid.uuid4()
    batch = pa.record_batch({"id": [1]})
    committed, orphan = (zone.write(tid, cid, "s", batch) for _ in range(2))
    other_stream = zone.write(tid, cid, "t", batch)
    # within the grace period nothing goes: a writer may be about to commit it
    assert zone.sweep(tid, cid, "s", {committed}, older_than_s=3600) == 0
    # the manifest may spell the value another way: matched by name
    keep = {f"s3://{bucket}/elsewhere/{committed.rsplit('/', 1)[1]}"}
    assert zone.sweep(tid, cid, "s", keep) == 1
    assert zone.list_files(tid, cid, "s") == [committed]
    assert zone.list_files(tid, cid, "t") == [other_stream]  # another stream: untouched
    assert orphan not in {f"s3://{bucket}/{k}" for k in s3_server.keys(bucket)}
    assert zone.sweep(tid, cid, "never-landed", keep) == 0


class StallingProxy:
    """A TCP relay to the S3 server that stops passing the client's bytes on once
    ``limit`` of them went through: an upload caught in the middle, for as long as the
    test wants (then the writer is killed)."""

    def __init__(self, upstream_port: int, limit: int, *, reset: bool = False) -> None:
        """``reset``: at the limit, cut the connections instead (a network failure)."""
        self.upstream_port, self.limit, self.reset = upstream_port, limit, reset
        self.sent = 0
        self.stalled = threading.Event()
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._up, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._down, args=(upstream, client), daemon=True).start()

    def _up(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                with self._lock:
                    room = self.limit - self.sent
                    self.sent += min(room, len(data))
                if room < len(data):
                    dst.sendall(data[: max(room, 0)])
                    self.stalled.set()
                    if self.reset:
                        for sock in (src, dst):
                            sock.close()
                    return  # else stop reading: the client's upload hangs here
                dst.sendall(data)
        except OSError:
            return

    @staticmethod
    def _down(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            return

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def stalling_proxy(s3_server: S3Server) -> Iterator[StallingProxy]:
    upstream = int(s3_server.endpoint.rsplit(":", 1)[1])
    proxy = StallingProxy(upstream, limit=3 * 1024 * 1024)
    yield proxy
    proxy.close()


def test_a_writer_killed_mid_upload_leaves_nothing_visible(
    s3_server: S3Server, stalling_proxy: StallingProxy
) -> None:
    bucket = s3_server.new_bucket()
    tid, cid = uuid.uuid4(), uuid.uuid4()
    # A separate process lands 24 MB (a multipart upload) through the stalling relay and
    # is SIGKILLed once 3 MB went through: no close, no cleanup, as in a crash.
    script = textwrap.dedent(
        f"""
        import os, uuid
        import pyarrow as pa
        from autonomos.aam.landing import LandingZone, StorageOptions
        zone = LandingZone("s3://{bucket}/landing", StorageOptions(
            endpoint_url="http://127.0.0.1:{stalling_proxy.port}",
            access_key_id="{s3_server.access_key}",
            secret_access_key="{s3_server.secret_key}"))
        blob = pa.array([os.urandom(1024 * 1024) for _ in range(24)], pa.binary())
        zone.write(uuid.UUID("{tid}"), uuid.UUID("{cid}"), "big", pa.record_batch([blob], ["b"]))
        print("landed")
        """
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        if not stalling_proxy.stalled.wait(timeout=60):
            out, err = writer.communicate(timeout=5)
            pytest.fail(f"the upload never reached the relay's limit: {out!r} {err[-2000:]!r}")
        time.sleep(0.5)  # whatever was in flight reaches the server
        assert writer.poll() is None, "the writer finished although its upload was stalled"
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=10)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    # it really was in the middle of an upload: the store holds an incomplete one...
    uploads = s3_server.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert [u["Key"].split("/")[-2] for u in uploads] == ["big"]
    # ...and no reader sees anything of it: no object, nothing listed, nothing to sweep
    assert s3_server.keys(bucket) == []
    zone = zone_in(s3_server, bucket)
    assert zone.list_files(tid, cid, "big") == []
    assert zone.sweep(tid, cid, "big", set()) == 0
    # the next attempt lands normally
    value = zone.write(tid, cid, "big", pa.record_batch({"id": [1]}))
    assert zone.list_files(tid, cid, "big") == [value]


def test_an_upload_cut_off_by_the_network_fails_and_publishes_nothing(
    s3_server: S3Server,
) -> None:
    bucket = s3_server.new_bucket()
    upstream = int(s3_server.endpoint.rsplit(":", 1)[1])
    proxy = StallingProxy(upstream, limit=3 * 1024 * 1024, reset=True)
    try:
        zone = zone_in(s3_server, bucket, endpoint=f"http://127.0.0.1:{proxy.port}")
        blob = pa.array([os.urandom(1024 * 1024) for _ in range(24)], pa.binary())
        with pytest.raises(LandingError, match="landing a batch"):
            zone.write(uuid.uuid4(), uuid.uuid4(), "big", pa.record_batch([blob], ["b"]))
        del zone
        gc.collect()  # a stream closed by its destructor must not complete the upload
    finally:
        proxy.close()
    assert proxy.stalled.is_set()
    assert s3_server.keys(bucket) == []


def test_an_unreachable_store_fails_with_a_clear_error(s3_server: S3Server) -> None:
    zone = zone_in(s3_server, "any-bucket", endpoint=f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    with pytest.raises(LandingError, match="landing a batch in s3://any-bucket/landing") as err:
        zone.write(uuid.uuid4(), uuid.uuid4(), "s", pa.record_batch({"id": [1]}))
    assert s3_server.secret_key not in str(err.value)
    assert time.monotonic() - started < 60  # bounded retries, no hang
