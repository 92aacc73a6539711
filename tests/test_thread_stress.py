"""The threaded stress run of scripts/tsan, on the regular build: every outcome right while several threads
share a cookie authorizer and a phantom authorizer (small cache, small pool, flapping endpoint)."""
from __future__ import annotations

import thread_stress


def test_threads_sharing_authorizers_get_the_right_outcomes():
    assert thread_stress.run(rounds=5) == []
