"""The kinds of job AutonomOS submits: their parameters and their entrypoint arguments.

A kind's parameters are a strict pydantic model (the API validates request bodies with
it), and a kind checks what it references (a connection id) inside the caller's tenant
before anything is submitted.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.store.aam_models import Connection
from autonomos.store.errors import NotFound


class BatchMapParams(BaseModel):
    """Map every stream of one connection (or of every active connection of the tenant)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    connection_id: uuid.UUID | None = None
    materialize: StrictBool = True
    embedder: StrictBool = True  # false: match on names, types and values only (faster)


async def _check_batch_map(session: AsyncSession, params: BaseModel) -> None:
    assert isinstance(params, BatchMapParams)
    if params.connection_id is None:
        return
    found = await session.scalar(select(Connection.id).where(Connection.id == params.connection_id))
    if found is None:
        raise NotFound("connection not found")


def _batch_map_args(tenant_id: uuid.UUID, params: BaseModel) -> list[str]:
    assert isinstance(params, BatchMapParams)
    args = ["--tenant", str(tenant_id)]
    if params.connection_id is not None:
        args += ["--connection", str(params.connection_id)]
    if not params.materialize:
        args.append("--no-materialize")
    if not params.embedder:
        args.append("--no-embedder")
    return args


@dataclass(frozen=True)
class JobKind:
    name: str
    module: str  # run as ``python -m <module> <args>``
    params: type[BaseModel]
    args: Callable[[uuid.UUID, BaseModel], list[str]]
    check: Callable[[AsyncSession, BaseModel], Awaitable[None]]

    def parse(self, params: dict[str, Any] | BaseModel | None) -> BaseModel:
        if isinstance(params, self.params):
            return params
        return self.params.model_validate(params or {})


KINDS: dict[str, JobKind] = {
    "batch_map": JobKind(
        "batch_map", "autonomos.jobs.batch_map", BatchMapParams, _batch_map_args, _check_batch_map
    ),
}
