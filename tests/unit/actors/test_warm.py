"""The warm worker pool in a process that is not connected to Ray (an API process before
it connects): fill and replace do nothing instead of failing in their timer threads."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import threading, time
import ray
from autonomos.actors.warm import WarmPool

errors = []
threading.excepthook = lambda args: errors.append(repr(args.exc_value))
pool = WarmPool(2, keep_s=60)
pool.replace(delay_s=0)  # in this thread
pool.fill()  # in timer threads
time.sleep(1.5)
assert not ray.is_initialized()
print(pool.requested, pool.enabled, errors)
"""


def test_a_pool_without_a_ray_connection_does_nothing() -> None:
    # A fresh interpreter: this test session may have connected to Ray already.
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[-2] == "0 True []"
