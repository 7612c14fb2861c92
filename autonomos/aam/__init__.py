"""Adaptive API Mesh core: normalise, fingerprint, drift, sync runs (no Ray imports)."""
