"""Complete snapshots: when a stream read in full says which rows it now holds, the
landed batches it no longer names are marked superseded, so the views drop their rows.

A connector that re-reads a stream in full tags each batch with its part (a file) and
the generation of that part's full read, and ends a complete read with a snapshot: the
generation of every part the stream has now (see ``connectors.base.SnapshotMessage``).
Every batch of the stream landed in another generation, in a part the snapshot does not
name, or before parts were recorded at all, holds rows the source no longer has.

Only a committed complete snapshot counts: the sync engine applies a stream's snapshot
in the transaction that marks its run ``succeeded`` — never for a failed or cancelled run,
nor for a stream whose read quarantined records (a record that failed normalisation is
not a deleted one) — and an incremental read never yields one. Superseding is
idempotent: the next run's snapshot names the same generations and marks nothing.

Superseded batches are kept (row and file) with the time and the run that superseded
them for ``AUTONOMOS_LANDING_SUPERSEDED_KEEP_DAYS``, after which the next sync of their
stream removes both (``SyncEngine._sweep_orphans``). The DCL reads only live ones
(``LandedBatch.live()``), and a slice built from a batch that is no longer live is
rebuilt, without its rows (see ``dcl.views``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from autonomos.store.aam_models import LandedBatch

__all__ = ["apply_snapshot", "superseded_by_run"]

_CHUNK = 500  # ids per UPDATE: well under every driver's bound-parameter limit


async def apply_snapshot(
    s: AsyncSession,
    connection_id: uuid.UUID,
    stream: str,
    parts: Mapping[str, str],
    run_id: uuid.UUID,
    now: datetime,
) -> int:
    """Mark the stream's live batches outside ``parts`` superseded by ``run_id``; how many."""
    rows = await s.execute(
        select(LandedBatch.id, LandedBatch.part, LandedBatch.generation).where(
            LandedBatch.connection_id == connection_id,
            LandedBatch.stream == stream,
            LandedBatch.live(),
        )
    )
    gone = [bid for bid, part, gen in rows if part is None or parts.get(part) != gen]
    for i in range(0, len(gone), _CHUNK):
        await s.execute(
            update(LandedBatch)
            .where(LandedBatch.id.in_(gone[i : i + _CHUNK]))
            .values(superseded_at=now, superseded_by=run_id)
        )
    return len(gone)


async def superseded_by_run(s: AsyncSession, run_id: uuid.UUID) -> list[str]:
    """The streams in which ``run_id``'s snapshots superseded batches."""
    found = await s.scalars(
        select(LandedBatch.stream).where(LandedBatch.superseded_by == run_id).distinct()
    )
    return sorted(found)
