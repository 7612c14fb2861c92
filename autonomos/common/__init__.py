"""The shared kernel: small helpers every package may use (no dependency on the others)."""
