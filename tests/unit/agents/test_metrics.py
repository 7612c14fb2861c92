"""Percentiles of the xAO metrics (the SQL side is tested on real databases)."""

from __future__ import annotations

import numpy as np
import pytest

from autonomos.agents.metrics import percentile


def test_percentile_interpolates_like_percentile_cont() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 95) == 7.0
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    rng = np.random.default_rng(0)
    sample = list(rng.lognormal(5, 1, 1000))
    assert percentile(sample, 95) == pytest.approx(float(np.quantile(sample, 0.95)), rel=1e-6)
