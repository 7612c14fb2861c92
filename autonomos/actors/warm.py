"""A warm pool of Ray worker processes, so that activating a tenant does not start one.

Every tenant actor (supervisor, connector, DCL, ...) lives in a Ray worker process of its
own, and starting one costs ~0.75-1 s of CPU (the interpreter, ``import ray``, the core
worker). The raylet keeps idle workers and gives an actor one that fits (same language and
runtime env; one never bound to another job's or detached actor's tree), but it prestarts
workers only when the first driver registers (the node's CPU count of them) or for queued
tasks, and kills idle workers beyond ``num_workers_soft_limit`` (the node's CPU count,
every live actor's worker counted) soon after they go idle. On a node with tenant actors
the idle set is therefore empty and every activation pays a process start.

This module asks the local raylet to start workers ahead of need (its ``PrestartWorkers``
RPC, which Ray's Python API does not expose): up to ``AUTONOMOS_ACTOR_WARM_WORKERS`` idle
ones when an API process starts (:meth:`WarmPool.fill`), and, ``REFILL_DELAY_S`` after every tenant
actor this process creates, one more if the node then has fewer than that many idle
workers (:meth:`WarmPool.replace`). Not at once: the new worker's start then competed for
the CPUs with the activation that had just taken one, and on the loaded 2-core box
one-at-a-time activations were no faster than without a pool. Not blindly: in a burst
most actors find the pool empty, and a replacement for each was one more process start
competing with the burst (4 activations at once got slower). Each prestarted worker is
kept for ``AUTONOMOS_ACTOR_WARM_KEEP_S`` even when idle; past that the raylet's usual rule
applies, so an unused pool gives its memory back.

The workers are prestarted without a job: the raylet binds one to the job (and, for a
detached actor, to that actor's tree) that first uses it, so a pool filled by one API
replica serves the actors any process creates on the node, Serve replicas of a driver
that has exited included (a worker prestarted *for* such a job never starts). A worker
that has run anything for one tenant's actor tree (a task, an actor) is never given to
another tenant's actor: Ray does not hand a worker bound to one detached actor's tree to
another (checked by ``tests/integration/actors/test_warm_pool.py``), and an actor's
worker exits with the actor.

Best effort: a failed request (an older raylet, a remote node without access) is logged
once and turns the pool off in this process; actors then start as before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import ray

from autonomos.actors.placement import placement

if TYPE_CHECKING:
    import psutil  # a declared dependency, imported where used: actors stay lean

    from autonomos.config import Settings

log = logging.getLogger("autonomos.actors.warm")

RPC_TIMEOUT_S = 5.0
FILL_PACE_S = 1.0
REFILL_DELAY_S = 2.0


class WarmPool:
    """Prestarts Ray worker processes on this process's node (see the module docstring)."""

    def __init__(self, size: int, keep_s: float) -> None:
        self.size, self.keep_s = size, keep_s
        self.requested = 0  # workers asked for so far (for tests and benchmarks)
        self._stub: Any = None
        self._lock = threading.Lock()
        self._off = size <= 0
        self._raylet: psutil.Process | None = None  # the local raylet, once found

    @property
    def enabled(self) -> bool:
        return not self._off

    def fill(self) -> None:
        """Top the node up to ``size`` idle workers (an API process starting), one request
        every ``FILL_PACE_S``: the raylet starts at most ``worker_maximum_startup_concurrency``
        (the node's CPU count) workers at once and does not retry a prestart beyond that.
        A top-up, not ``size`` more: every API process (replica, restart, CLI) fills, and
        the node's idle workers must stay about ``size`` however many there are."""
        for i in range(self.size if self.enabled else 0):
            timer = threading.Timer(i * FILL_PACE_S, self._top_up)
            timer.daemon = True
            timer.start()

    def replace(self, delay_s: float = REFILL_DELAY_S) -> None:
        """After an actor was created: ask for one worker, after ``delay_s``, if the node
        has fewer than ``size`` idle (or starting) workers then. Not at once: a worker
        starting (~0.75-1 s of CPU) while the new actor builds itself and answers its
        first call competes with it for the node's CPUs. Not blindly: an actor that
        found the pool empty started its own process, and a replacement for it would be
        one more process start in the middle of a burst of activations."""
        if delay_s <= 0:
            self._top_up()
            return
        timer = threading.Timer(delay_s, self._top_up)
        timer.daemon = True
        timer.start()

    def _top_up(self) -> None:
        if self._off or not ray.is_initialized():
            # Not connected (yet, or any more): there is no node to fill. A timer of
            # fill() that fires before this process connects used to die in its thread
            # on the missing node; callers fill once connected (runtime.start_runtime).
            return
        idle = self._idle_workers()
        if idle is None or idle < self.size:  # unknown (the raylet not visible): ask
            self._prestart(1)

    def _idle_workers(self) -> int | None:
        """The local node's idle and starting Ray workers; None when the raylet is not
        visible from this process."""
        import psutil

        try:
            if self._raylet is None:
                self._raylet = local_raylet()
            if self._raylet is None:
                return None
            return len(idle_workers(self._raylet, starting=True))
        except psutil.Error:
            return None

    def _prestart(self, n: int) -> None:  # from _top_up, which checked the connection
        try:
            stub, request = self._request(n)
            future = stub.PrestartWorkers.future(request, timeout=RPC_TIMEOUT_S)
        except Exception as e:  # best effort: the actor starts without it
            self._turn_off(e)
            return
        self.requested += n
        future.add_done_callback(self._done)

    def _done(self, future: Any) -> None:
        if future.exception() is not None:
            self._turn_off(future.exception())

    def _turn_off(self, error: BaseException) -> None:
        if not self._off:
            self._off = True
            log.warning("warm worker pool off in this process: %s", error)

    def _request(self, n: int) -> tuple[Any, Any]:
        from ray._private.grpc_utils import init_grpc_channel
        from ray.core.generated import common_pb2, node_manager_pb2, node_manager_pb2_grpc

        with self._lock:
            if self._stub is None:
                node = ray._private.worker.global_worker.node
                channel = init_grpc_channel(f"{node.node_ip_address}:{node.node_manager_port}")
                self._stub = node_manager_pb2_grpc.NodeManagerServiceStub(channel)
        env = ray.get_runtime_context().get_runtime_env_string()
        request = node_manager_pb2.PrestartWorkersRequest(  # type: ignore[attr-defined]
            language=common_pb2.Language.PYTHON,  # type: ignore[attr-defined]
            num_workers=n,
            keep_alive_duration_secs=int(self.keep_s),
        )
        if env and env != "{}":  # actors inherit their creator's runtime env
            request.runtime_env_info.serialized_runtime_env = env
        return self._stub, request


def local_raylet() -> psutil.Process | None:
    """The local raylet's process: an actor's parent, else found by its socket name."""
    import psutil

    parent = psutil.Process().parent()
    if parent is not None and parent.name() == "raylet":
        return parent
    socket = ray._private.worker.global_worker.node.raylet_socket_name
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "raylet" and any(
            socket in a for a in process.info["cmdline"] or ()
        ):
            return process
    return None


def idle_workers(raylet: psutil.Process, *, starting: bool = False) -> list[psutil.Process]:
    """The ``raylet``'s idle workers (its children titled ``ray::IDLE``), with ``starting``
    also those still starting (``default_worker.py``, not yet titled)."""
    import psutil

    out = []
    for child in raylet.children():
        try:
            cmdline = child.cmdline()
        except psutil.Error:
            continue
        if cmdline[:1] == ["ray::IDLE"] or (
            starting and any("default_worker.py" in a for a in cmdline[:3])
        ):
            out.append(child)
    return out


_pools: dict[tuple[int, float], WarmPool] = {}
_pools_lock = threading.Lock()


def pool(settings: Settings) -> WarmPool:
    """This process's pool for these settings."""
    key = (settings.actor_warm_workers, settings.actor_warm_keep_s)
    with _pools_lock:
        if key not in _pools:
            _pools[key] = WarmPool(*key)
        return _pools[key]


def get_or_create(
    settings: Settings,
    actor_class: Any,
    kind: str,
    name: str,
    namespace: str,
    args: tuple[Any, ...] = (),
    kwargs: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
) -> Any:
    """The live actor ``name``, else a new ``actor_class(*args, **kwargs)`` of ``kind``
    placed as the settings prefer, and then a worker is prestarted in place of the one it
    took (blocking GCS calls: call from a thread). ``get_if_exists`` settles a race with
    another creator; ``options`` adds to ``.options(...)`` (e.g. ``lifetime``)."""
    try:
        return ray.get_actor(name, namespace=namespace)
    except ValueError:  # none by that name
        pass
    handle = actor_class.options(
        name=name,
        namespace=namespace,
        get_if_exists=True,
        **{**placement(settings, kind), **(options or {})},
    ).remote(*args, **(kwargs or {}))
    pool(settings).replace()
    return handle
