"""Reference-count and memory leaks, bounded for the regular suite: resident memory must not grow by
1 MiB over 50,000 calls of each outcome (allow in every shape, every denial reason, the error paths of the
module functions and of configuration), measured after a warm-up. A leak of 20 bytes per call would
show as 1 MB. No timing is measured. The million-call version is scripts/rss-long; valgrind's memcheck over
the same outcomes is scripts/valgrind."""
from __future__ import annotations

import logging
import os

import pytest

import outcomes

CALLS = int(os.environ.get("LEAK_CALLS", "50000"))
LIMIT = 1 << 20

pytestmark = pytest.mark.skipif(
    os.environ.get("OAUTH_PROXY_SANITIZED") == "1",
    reason="AddressSanitizer's quarantine keeps freed memory resident, so RSS says nothing there",
)


@pytest.fixture(scope="module")
def cases():
    logger = logging.getLogger("oauth_proxy")
    level = logger.level
    yield outcomes.build()
    outcomes.close_servers()
    logger.setLevel(level)  # the outcomes' proxies configured the shared logger to CRITICAL


def _names():
    names = sorted(outcomes.build())
    outcomes.close_servers()
    return names


@pytest.mark.parametrize("name", _names())
def test_no_memory_growth_over_many_calls(cases, name):
    calls = outcomes.calls_for(name, CALLS)  # phantom cases over the network: a tenth
    growth = outcomes.rss_growth(name, calls, cases, warmup=min(5000, calls))
    assert growth < LIMIT, f"{name}: resident memory grew by {growth} bytes over {calls} calls"
