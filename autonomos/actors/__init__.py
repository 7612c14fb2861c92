"""Ray actors per tenant: thin shells around the core (sync engine, drift) that add
naming, supervision, restarts and passivation. See DESIGN.md, "Tenancy and actors"."""

from autonomos.actors.connector import ConnectorActor
from autonomos.actors.drift_monitor import DriftMonitor
from autonomos.actors.launcher import RaySyncLauncher
from autonomos.actors.naming import actor_name
from autonomos.actors.supervisor import TenantSupervisor

__all__ = ["ConnectorActor", "DriftMonitor", "RaySyncLauncher", "TenantSupervisor", "actor_name"]
