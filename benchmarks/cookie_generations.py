"""Cookie generations and CSRF modes side by side: authorize() per call with COOKIE_FORMAT v1, v2 and v1,v2 and
with CSRF_MODE double-submit and header, in one process, interleaved.

    .venv/bin/python benchmarks/cookie_generations.py [--rounds N] [--batch-seconds S]

How it measures (as benchmarks/run.py does): rounds of short timed batches; in every round each (setting,
request) pair runs once, in a shuffled order, so drift of a shared machine hits all pairs alike. Two figures:
the median over rounds (with the median of the per-round ratios to the baseline on the same request), and
the minimum over rounds (with the ratio of the minima), the run least disturbed by other processes. The
garbage collector is off during a batch. Each setting gets the requests its SPA sends: double-submit, the
-csrf cookie and the x-<prefix>-csrf header on writes; header mode, token-handler-version on every request
and no -csrf cookie.
"""
from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import time

import oauth_proxy
from oauth_proxy.testing import SpaSession, make_jwt

KEY = "7b99279ab87533d3c238db874a842a91ee26a76027f3c03c317504963d2c9926"
PREFIX = "example"
ORIGIN = "https://www.example.com"
OPAQUE = "42665300-efe8-419d-be52-07b53e208f46"
JWT = make_jwt({"sub": "bench-user", "scope": "openid profile orders", "exp": 4102444800,
                "iss": "https://login.example.com/oauth/v2/oauth-anonymous", "aud": "api.example.com",
                "filler": "x" * 600})
# (label, COOKIE_FORMAT, CSRF_MODE, generation of the browser's cookies). The second row is a control: the
# baseline's requests with the header-mode SPA's extra header added (and not read), to tell the cost of a
# larger event from the cost of the mode.
SETTINGS = [
    ("v1 double-submit", "v1", "double-submit", "v1"),
    ("v1 double-submit + header sent", "v1", "double-submit", "v1"),
    ("v2 double-submit", "v2", "double-submit", "v2"),
    ("v1 header", "v1", "header", "v1"),
    ("v2 header", "v2", "header", "v2"),
    ("v1,v2 header, v1 cookie", "v1,v2", "header", "v1"),
    ("v1,v2 header, v2 cookie", "v1,v2", "header", "v2"),
]
BASELINE = SETTINGS[0][0]
REQUESTS = [("GET", "opaque", OPAQUE), ("POST", "opaque", OPAQUE), ("GET", "JWT", JWT), ("POST", "JWT", JWT)]


def build():
    """{(setting label, request label): (authorize, event)}: every pair checked to allow before timing."""
    pairs = {}
    for label, cookie_format, csrf_mode, generation in SETTINGS:
        proxy = oauth_proxy.OAuthProxy(oauth_proxy.Config(
            trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX, encryption_key=KEY,
            cookie_format=cookie_format, csrf_mode=csrf_mode))
        for method, kind, token in REQUESTS:
            session = SpaSession(KEY, PREFIX, ORIGIN, token=token, cookie_format=generation, csrf_mode=csrf_mode)
            extra = {"token-handler-version": "1"} if label.endswith("+ header sent") else None
            event = session.rest_event(method, "/api/orders", headers=extra)
            event = json.loads(json.dumps(event))  # as Lambda hands it over
            response = proxy.authorize(event)
            assert response["policyDocument"]["Statement"][0]["Effect"] == "Allow", (label, method, kind)
            pairs[(label, f"{method} {kind}")] = (proxy.authorize, event)
    return pairs


def calls_per_batch(call, event, seconds: float) -> int:
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            call(event)
        if time.perf_counter() - start >= seconds:
            return n
        n *= 2


def batch(call, event, n: int) -> float:
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for _ in range(n):
            call(event)
        return (time.perf_counter_ns() - start) / n
    finally:
        gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--batch-seconds", type=float, default=0.01)
    args = parser.parse_args()
    pairs = build()
    sizes = {key: calls_per_batch(call, event, args.batch_seconds) for key, (call, event) in pairs.items()}
    times = {key: [] for key in pairs}
    order = list(pairs)
    for _ in range(args.rounds):
        random.shuffle(order)
        for key in order:
            call, event = pairs[key]
            times[key].append(batch(call, event, sizes[key]))

    requests = [f"{method} {kind}" for method, kind, _ in REQUESTS]
    width = max(len(label) for label, *_ in SETTINGS)
    # The median is the usual figure; the minimum is the run least disturbed by other processes, the better
    # estimate of the work itself on a shared machine. Both are shown, each with its ratio to the baseline.
    for title, pick, ratio_of in (
            ("median", statistics.median,
             lambda mine, base: statistics.median(m / b for m, b in zip(mine, base))),
            ("minimum", min, lambda mine, base: min(mine) / min(base))):
        print(f"\nauthorize(), ns per call, {title} of {args.rounds} interleaved rounds "
              f"(in brackets: ratio to {BASELINE} on the same request)")
        print(f"{'setting':<{width}}  " + "  ".join(f"{r:>16}" for r in requests))
        for label, *_ in SETTINGS:
            cells = []
            for request in requests:
                mine, base = times[(label, request)], times[(BASELINE, request)]
                cells.append(f"{pick(mine):>7.0f} ({ratio_of(mine, base):5.3f})")
            print(f"{label:<{width}}  " + "  ".join(f"{c:>16}" for c in cells))

if __name__ == "__main__":
    main()
