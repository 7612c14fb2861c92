"""Per-tenant telemetry of LLM and embedding calls."""

from __future__ import annotations
