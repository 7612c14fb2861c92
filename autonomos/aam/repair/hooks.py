"""The hook an applied repair calls: re-materialise the affected unified views.

Views are rebuilt from landed data (no source re-read) by the tenant's DCL actor,
``dcl:<tenant>`` in the platform namespace, through its ``rematerialize(connection_id,
streams)`` method. This module is the one call point: the repair agent and the repair
API call :func:`request_rematerialize` after the transaction that applied a repair (or
rolled one back) has committed. It never raises: when Ray is not initialised (inline
deployments, tests) or the tenant's DCL actor is not running, it logs and returns False,
and the views catch up when the DCL next materialises.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

__all__ = ["Rematerialize", "request_rematerialize"]

log = logging.getLogger("autonomos.repair.hooks")

# (tenant_id, connection_id, streams) -> whether the DCL accepted the request
Rematerialize = Callable[[uuid.UUID, uuid.UUID, Sequence[str]], Awaitable[bool]]


async def request_rematerialize(
    namespace: str, tenant_id: uuid.UUID, connection_id: uuid.UUID, streams: Sequence[str]
) -> bool:
    """Ask ``dcl:<tenant>`` to rebuild the views fed by ``streams`` of ``connection_id``."""
    if not streams:
        return False
    try:
        import ray

        from autonomos.actors.naming import actor_name

        if not ray.is_initialized():
            log.info("repair applied (tenant %s); no Ray here: views refresh later", tenant_id)
            return False
        try:
            handle: Any = await asyncio.to_thread(
                ray.get_actor, actor_name("dcl", tenant_id), namespace=namespace
            )
        except ValueError:
            log.info("tenant %s has no DCL actor running; views refresh when it starts", tenant_id)
            return False
        # submitted, not awaited: a rebuild can take long and must not hold the decision
        handle.rematerialize.remote(str(connection_id), sorted(set(streams)))
        return True
    except Exception:  # best effort: the repair is committed whatever happens here
        log.exception("re-materialisation request for tenant %s failed", tenant_id)
        return False


def ray_rematerialize(namespace: str) -> Rematerialize:
    """The default hook, bound to the platform's Ray namespace."""

    async def hook(tenant_id: uuid.UUID, connection_id: uuid.UUID, streams: Sequence[str]) -> bool:
        return await request_rematerialize(namespace, tenant_id, connection_id, streams)

    return hook
