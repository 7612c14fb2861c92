"""Batch jobs submitted to Ray, kept beyond the cluster's lifetime."""

from __future__ import annotations
