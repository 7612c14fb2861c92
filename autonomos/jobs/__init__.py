"""Batch jobs on Ray: entrypoints for ``ray job submit`` and the service that tracks them.

Entrypoints: :mod:`autonomos.jobs.batch_map` (map streams, then materialise). Others use
:class:`~autonomos.jobs.service.JobService` (submit / follow / stop / retry, recorded in
the ``jobs`` table) with a :class:`~autonomos.jobs.server.JobServer` such as
:class:`~autonomos.jobs.server.RayJobServer`.

Exports load on first use, so ``autonomos --help`` (whose ``jobs`` commands live in
``autonomos.cli.jobs``) does not import the database stack.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "KINDS": "kinds",
    "BatchMapParams": "kinds",
    "JobError": "errors",
    "JobServerError": "errors",
    "JobServerUnavailable": "errors",
    "JobStateError": "errors",
    "JobServer": "server",
    "RayJobServer": "server",
    "RemoteJob": "server",
    "JobService": "service",
    "JobView": "service",
    "JobStatus": "state",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
