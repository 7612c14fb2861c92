"""Live events through real API replicas: two uvicorn processes over the test database,
fanning out over the real Redis (db 15, a stream of this module's own), with events
produced by the test process (as a Ray actor produces them) and by the replicas (syncs).

SSE and WebSocket clients are real network clients; nothing here goes through the
in-process ASGI transport, which cannot stream.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from autonomos.config import Settings
from autonomos.events.log import EventLog
from tests.conftest import Tenant, files_connection, register
from tests.helpers.api_process import api_processes, settings_json
from tests.helpers.events import emit, producer
from tests.integration.events.test_hub import REDIS_URL, _redis_or_fail

pytestmark = pytest.mark.redis

STREAM = "/api/v1/events/stream"
SEND_TIMEOUT_S = 2.0


@pytest.fixture(scope="module")
def stream_key() -> str:
    return f"autonomos:test-live:{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def replicas(
    settings: Settings,
    api: httpx.AsyncClient,
    stream_key: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[str]]:
    """Two API processes sharing the database, the data dir (so the JWT secret) and a
    Redis stream; each with its own DuckDB folder (one writer per file)."""
    logs = tmp_path_factory.mktemp("replica-logs")
    configs = [
        settings_json(
            settings,
            redis_url=REDIS_URL,
            event_stream=stream_key,
            event_heartbeat_s=1.0,
            event_send_timeout_s=SEND_TIMEOUT_S,
            event_sweep_s=0,
            dcl_dir=tmp_path_factory.mktemp(f"dcl-replica-{i}"),
        )
        for i in range(2)
    ]
    with api_processes(configs, log_dir=logs) as urls:
        yield urls


@pytest.fixture(scope="module")
async def actor(settings: Settings, stream_key: str) -> AsyncIterator[EventLog]:
    """This process as a Ray actor would be: numbering its events, adding them to Redis."""
    await _redis_or_fail(REDIS_URL)
    async with producer(
        settings, redis_url=REDIS_URL, event_stream=stream_key, event_sweep_s=0
    ) as event_log:
        yield event_log
        assert event_log.stream is not None
        await event_log.stream.client.delete(stream_key)


async def _tid(api: httpx.AsyncClient, t: Tenant) -> uuid.UUID:
    return uuid.UUID((await api.get("/api/v1/auth/me", headers=t.headers)).json()["tenant_id"])


async def sse_frames(response: httpx.Response) -> AsyncIterator[dict[str, str]]:
    """The frames of an SSE response: {"id", "event", "data"} or {"comment"}."""
    frame: dict[str, str] = {}
    async for line in response.aiter_lines():
        if not line:
            if frame:
                yield frame
            frame = {}
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        else:
            name, _, value = line.partition(":")
            frame[name] = value.removeprefix(" ")


async def read_events(
    url: str,
    headers: dict[str, str],
    n: int,
    *,
    params: dict[str, Any] | None = None,
    wait_s: float = 30.0,
) -> list[dict[str, Any]]:
    """The first ``n`` events of a stream (their JSON), then disconnect."""
    got: list[dict[str, Any]] = []
    async with httpx.AsyncClient(timeout=wait_s) as client, asyncio.timeout(wait_s):
        async with client.stream("GET", url + STREAM, headers=headers, params=params) as r:
            assert r.status_code == 200, await r.aread()
            async for frame in sse_frames(r):
                if "id" in frame:
                    event = json.loads(frame["data"])
                    assert frame["event"] == event["type"] and int(frame["id"]) == event["id"]
                    got.append(event)
                    if len(got) == n:
                        break
    return got


async def test_sse_resume_loses_and_repeats_nothing_across_a_disconnect(
    replicas: list[str], api: httpx.AsyncClient, actor: EventLog, tenant_a: Tenant
) -> None:
    tid = await _tid(api, tenant_a)
    start = await actor.last_id(tid)
    total = 300
    burst = asyncio.create_task(emit(actor, tid, total, per_commit=5, pause_s=0.02))
    try:
        first = await read_events(replicas[0], tenant_a.headers, 120, params={"after": start})
        assert not burst.done(), "the disconnect was meant to fall in the middle of the burst"
        last = first[-1]["id"]
        # the browser's reconnect: Last-Event-ID, here to the other replica
        rest = await read_events(
            replicas[1], {**tenant_a.headers, "Last-Event-ID": str(last)}, total - 120
        )
    finally:
        await burst
    got = first + rest
    assert [e["id"] for e in got] == list(range(start + 1, start + total + 1))
    assert [e["payload"]["n"] for e in got] == list(range(total))


async def test_an_event_produced_on_either_replica_reaches_both(
    replicas: list[str], api: httpx.AsyncClient, tenant_b: Tenant, tmp_path: Path
) -> None:
    tid = await _tid(api, tenant_b)
    src = tmp_path / "src"
    src.mkdir()
    (src / "accounts.csv").write_text("id,name\n1,Acme\n2,Globex\n")
    connection = await files_connection(api, tenant_b, src)
    start = (await api.get("/api/v1/events", headers=tenant_b.headers)).json()["next_after"]
    params = {"types": "sync.succeeded", "after": start or 0}
    readers = [
        asyncio.create_task(read_events(url, tenant_b.headers, 2, params=params, wait_s=60))
        for url in replicas
    ]
    runs = []
    async with httpx.AsyncClient(timeout=30) as client:
        for url in replicas:  # one sync run in each replica's process
            r = await client.post(
                f"{url}/api/v1/aam/connections/{connection}/sync", headers=tenant_b.headers
            )
            assert r.status_code == 202, r.text
            runs.append(r.json()["run_id"])
            run_url = f"{url}/api/v1/aam/runs/{runs[-1]}"
            for _ in range(300):
                status = (await client.get(run_url, headers=tenant_b.headers)).json()
                if status.get("status") in ("succeeded", "failed"):
                    break
                await asyncio.sleep(0.1)
    got = await asyncio.gather(*readers)
    for events in got:
        assert [e["subject"]["run_id"] for e in events] == runs
        assert [e["type"] for e in events] == ["sync.succeeded"] * 2
    assert got[0] == got[1]
    assert tid  # tenant B's own log: ids follow its history (queued/started in between)
    ids = [e["id"] for e in got[0]]
    assert (start or 0) < ids[0] < ids[1]


async def _ws(url: str, hello: dict[str, Any]) -> Any:
    ws = await connect(url.replace("http://", "ws://") + "/api/v1/events/ws")
    await ws.send(json.dumps(hello))
    return ws


async def _ws_events(ws: Any, n: int, wait_s: float = 20.0) -> tuple[list[dict], int]:
    events: list[dict[str, Any]] = []
    pings = 0
    async with asyncio.timeout(wait_s):
        while len(events) < n:
            message = json.loads(await ws.recv())
            if message.get("type") == "ping" and "id" not in message:
                pings += 1
            else:
                events.append(message)
    return events, pings


async def test_tenant_b_never_sees_tenant_a_on_sse_ws_or_history(
    replicas: list[str], api: httpx.AsyncClient, actor: EventLog
) -> None:
    a, b = await register(api, "iso-a"), await register(api, "iso-b")
    ta, tb = await _tid(api, a), await _tid(api, b)
    await emit(actor, tb, 1, type_="mapping.changed", who="b")  # B's history: one event
    b_last = await actor.last_id(tb)
    b_sse = asyncio.create_task(read_events(replicas[0], b.headers, 1, params={"after": 0}))
    b_sse_live = asyncio.create_task(read_events(replicas[1], b.headers, 1))
    a_sse = asyncio.create_task(read_events(replicas[1], a.headers, 20))
    b_ws = await _ws(replicas[0], {"token": b.tokens["access_token"], "after": b_last})
    await asyncio.sleep(1.0)  # every stream is open and following
    await emit(actor, ta, 20, type_="mapping.changed", who="a")
    await emit(actor, tb, 1, type_="mapping.changed", who="b")
    a_events = await a_sse
    assert [e["payload"]["who"] for e in a_events] == ["a"] * 20
    b_replayed, b_live = await b_sse, await b_sse_live
    assert [(e["id"], e["payload"]["who"]) for e in b_replayed] == [(1, "b")]
    assert [(e["id"], e["payload"]["who"]) for e in b_live] == [(2, "b")]
    ws_events, _ = await _ws_events(b_ws, 1)
    assert [(e["id"], e["payload"]["who"]) for e in ws_events] == [(2, "b")]
    await b_ws.close()
    history = (await api.get("/api/v1/events?limit=500", headers=b.headers)).json()
    assert [(e["id"], e["payload"]["who"]) for e in history["items"]] == [(1, "b"), (2, "b")]
    assert ta != tb


async def test_websocket_auth_and_first_message(
    replicas: list[str], api: httpx.AsyncClient, actor: EventLog, tenant_a: Tenant
) -> None:
    token = tenant_a.tokens["access_token"]
    tid = await _tid(api, tenant_a)
    last = await actor.last_id(tid)
    cases = [
        ({"after": None}, 1008),  # no token
        ({"token": "not-a-token"}, 1008),
        ({"token": token + "x"}, 1008),  # a bad signature
        ({"token": token, "types": "nope.*"}, 1007),
        ({"token": token, "after": last + 10}, 1007),
        ({"token": token, "after": -1}, 1007),
        ({"token": token, "extra": 1}, 1007),
    ]
    for hello, code in cases:
        ws = await _ws(replicas[0], hello)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == code, hello
    ws = await connect(replicas[0].replace("http://", "ws://") + "/api/v1/events/ws")
    await ws.send("not json")
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007
    # a good token: replay after ``last``, then live, and heartbeats (1 s here)
    await emit(actor, tid, 2, type_="job.queued")
    ws = await _ws(replicas[1], {"token": token, "after": last, "types": "job.*"})
    events, _ = await _ws_events(ws, 2)
    await emit(actor, tid, 1, type_="sync.queued")  # filtered out
    await emit(actor, tid, 1, type_="job.failed")
    more, _ = await _ws_events(ws, 1)
    assert [e["id"] for e in events + more] == [last + 1, last + 2, last + 4]
    assert [e["type"] for e in events + more] == ["job.queued", "job.queued", "job.failed"]
    async with asyncio.timeout(5):
        while json.loads(await ws.recv()) != {"type": "ping"}:
            pass
    await ws.close()


def _stalled_stream(url: str, headers: dict[str, str], after: int) -> socket.socket:
    """An SSE request on a socket that will not read (a tiny receive window)."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    lines = [f"GET {STREAM}?after={after} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def _drain(sock: socket.socket, wait_s: float) -> tuple[bytes, bool]:
    """What the socket delivers within ``wait_s``, and whether the server closed it."""
    deadline = time.monotonic() + wait_s
    data = b""
    try:
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            if not (chunk := sock.recv(1 << 16)):
                return data, True
            data += chunk
    except TimeoutError:
        pass
    return data, False


async def test_a_stalled_client_is_dropped_without_slowing_others(
    replicas: list[str], api: httpx.AsyncClient, actor: EventLog, tenant_a: Tenant
) -> None:
    tid = await _tid(api, tenant_a)
    start = await actor.last_id(tid)
    # more than the socket buffers between the server and the stalled client hold (the
    # server's send buffer alone grows to 4 MiB here): ~6 MB
    total, pad = 1500, 4000
    stalled = _stalled_stream(replicas[0], tenant_a.headers, start)
    healthy = asyncio.create_task(
        read_events(replicas[0], tenant_a.headers, total, params={"after": start}, wait_s=90)
    )
    try:
        await asyncio.sleep(1.0)
        t0 = time.monotonic()
        await emit(actor, tid, total, per_commit=50, pad=pad)
        produced_s = time.monotonic() - t0
        got = await healthy
        delivered_s = time.monotonic() - t0
        assert [e["id"] for e in got] == list(range(start + 1, start + total + 1))
        # the stalled one is cut off once a send waited SEND_TIMEOUT_S (it still reads
        # nothing meanwhile); what it then reads is a gap-free prefix, then the end
        await asyncio.sleep(SEND_TIMEOUT_S + 3)
        data, closed = await asyncio.to_thread(_drain, stalled, 15)
    finally:
        stalled.close()
    assert closed, "the server kept a client that accepted nothing"
    ids = [int(i) for i in re.findall(rb"\nid: (\d+)\n", b"\n" + data.replace(b"\r\n", b"\n"))]
    assert ids == list(range(start + 1, start + 1 + len(ids))) and len(ids) < total
    print(
        f"\nstalled-client test: {total} events of ~{pad // 1000} KB produced in "
        f"{produced_s:.2f} s, all delivered to the healthy client {delivered_s:.2f} s "
        f"after the first; the stalled client had {len(ids)} when it was closed"
    )
    rest = await read_events(
        replicas[1], {**tenant_a.headers, "Last-Event-ID": str(start + len(ids))}, total - len(ids)
    )
    assert [e["id"] for e in rest] == list(range(start + len(ids) + 1, start + total + 1))
