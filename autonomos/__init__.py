"""AutonomOS: multi-tenant AI data orchestration on Ray."""

__version__ = "0.1.0"
