"""Repair agent core (no Ray): drift -> repair proposals, Safe Mode, decisions."""

from autonomos.aam.repair.diff import SchemaInputError, diff_schemas, fields_of

__all__ = ["SchemaInputError", "diff_schemas", "fields_of"]
