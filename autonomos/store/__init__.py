"""Metadata store: SQLAlchemy tables, tenant-scoped sessions, migrations.

Importing the package registers every table, so metadata-wide helpers (migrations,
``tenant_owned_tables``) always see all of them.
"""

from autonomos.store import (  # noqa: F401
    aam_models,
    agent_models,
    dcl_models,
    event_models,
    jobs_models,
    kb_models,
    models,
    repair_models,
    telemetry_models,
)
