"""Demo data: a deterministic generator of a fictional company's source-system extracts.

See :mod:`autonomos.demo.generator` (``python -m autonomos.demo.generator OUT_DIR``).
"""
