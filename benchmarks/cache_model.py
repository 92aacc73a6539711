#!/usr/bin/env python3
"""A MODEL of what API Gateway's authorizer result cache saves for an SPA: not a measurement on AWS.

A seeded synthetic trace of SPA sessions (users arriving over an hour, each making a series of API calls with
think times between them, mostly reads, some writes, a few from a second tab) is replayed through the gateway
model of oauth_proxy.testing.gateway_cache, configured as the shipped descriptions are (a reads and a writes
authorizer with the identity sources of docs/caching.md), with the real authorizer behind it. For each TTL it
counts the authorizer invocations, and turns the ones avoided into money and latency per million requests
under the stated ASSUMPTIONS below (none of them is measured here).

    .venv/bin/python benchmarks/cache_model.py            # prints the table, writes benchmarks/CACHE_MODEL.md
    .venv/bin/python benchmarks/cache_model.py --no-write --sessions 200
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import oauth_proxy
from oauth_proxy.testing import make_jwt
from oauth_proxy.testing.gateway_cache import AuthorizerSpec, Gateway, GatewayConfig, Request, Route

OUT = Path(__file__).resolve().parent / "CACHE_MODEL.md"
ORIGIN = "https://www.example.com"
PREFIX = "example"
KEY = "3c" * 32
TTLS = (0, 60, 300)

# ---- ASSUMPTIONS (the model's inputs; change them here) ---------------------------------------------------
SEED = 20261203
SESSIONS = 2000                  # users starting a session within the hour
ARRIVAL_WINDOW_S = 3600          # sessions start uniformly over this window
CALLS_PER_SESSION_MEAN = 40      # geometric number of API calls per session
THINK_TIME_MEAN_S = 12.0         # exponential pause between a user's calls
BURST_CALLS = (1, 4)             # calls a screen makes at once (uniform), 50 ms apart
WRITE_SHARE = 0.15               # POST/PUT/PATCH/DELETE among calls
READ_PATHS = ["/api/orders", "/api/orders/{n}", "/api/profile", "/api/catalog?page={n}"]
WRITE_PATHS = ["/api/orders", "/api/orders/{n}", "/api/cart/{n}"]
LAMBDA_PRICE_PER_MILLION_REQUESTS = 0.20       # USD, x86_64, us-east-1 list price
LAMBDA_PRICE_PER_GB_SECOND = 0.0000166667      # USD, x86_64, us-east-1 list price
MEMORY_GB = 0.25                                # the descriptions' MemorySize: 256 MB
BILLED_MS_PER_INVOCATION = 3                    # assumed billed duration of one warm authorizer invocation
LATENCY_MS_PER_INVOCATION = 15                  # assumed time a warm Lambda authorizer call adds to a request
# -------------------------------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def shipped(api_type: str, ttl: int, same_origin: bool) -> GatewayConfig:
    """The routes and identity sources of serverless.yml / serverless.http-api.yml at this TTL."""
    csrf = f"x-{PREFIX}-csrf"
    if api_type == "REST":
        reads = ["method.request.header.Cookie", "method.request.header.Origin", "context.httpMethod"]
        writes = reads + [f"method.request.header.{csrf}"]
    else:
        reads = ["$request.header.Cookie", "$request.header.Origin", "$context.httpMethod", "$context.routeKey"]
        writes = reads + [f"$request.header.{csrf}"]
    read_ttl = 0 if same_origin else ttl
    specs = [AuthorizerSpec("reads", reads if read_ttl else reads[:1], read_ttl, api_type == "HTTP"),
             AuthorizerSpec("writes", writes if ttl else writes[:1], ttl, api_type == "HTTP")]
    routes = [Route(m, "/api/{proxy+}", "reads" if m == "GET" else "writes")
              for m in ("GET", "POST", "PUT", "PATCH", "DELETE")]
    return GatewayConfig(api_type, routes, specs)


def trace(rng: random.Random, same_origin: bool) -> List[Tuple[float, Request]]:
    """(time, request) for every call of every session, in time order."""
    calls: List[Tuple[float, Request]] = []
    for user in range(SESSIONS):
        token = make_jwt({"sub": f"user-{user}", "scope": "openid", "exp": 4102444800})
        csrf = f"csrf-{user}"
        cookie = (f"{PREFIX}-at={oauth_proxy.encrypt_cookie(token, KEY)}; "
                  f"{PREFIX}-csrf={oauth_proxy.encrypt_cookie(csrf, KEY)}")
        t = rng.uniform(0, ARRIVAL_WINDOW_S)
        remaining = 1 + int(rng.expovariate(1 / (CALLS_PER_SESSION_MEAN - 1)))
        while remaining > 0:
            for i in range(min(remaining, rng.randint(*BURST_CALLS))):
                write = rng.random() < WRITE_SHARE
                method = rng.choice(["POST", "PUT", "PATCH", "DELETE"]) if write else "GET"
                path = rng.choice(WRITE_PATHS if write else READ_PATHS).format(n=rng.randint(1, 50))
                headers = {"Cookie": cookie}
                if write or not same_origin:  # same-origin GETs carry no Origin header
                    headers["Origin"] = ORIGIN
                if write:
                    headers[f"x-{PREFIX}-csrf"] = csrf
                calls.append((t + 0.05 * i, Request(method, path, headers)))
                remaining -= 1
            t += rng.expovariate(1 / THINK_TIME_MEAN_S)
    calls.sort(key=lambda c: c[0])
    return calls


def replay(config: GatewayConfig, calls: List[Tuple[float, Request]], authorizer: oauth_proxy.OAuthProxy
           ) -> Tuple[int, int, int]:
    clock = Clock()
    gateway = Gateway(config, authorizer.authorize, clock)
    allowed = 0
    for t, request in calls:
        clock.now = t
        allowed += gateway.handle(request).allowed
    return gateway.requests, gateway.invocations, allowed


def per_million(invocations: int, requests: int) -> Dict[str, float]:
    n = invocations / requests * 1_000_000
    compute = n * BILLED_MS_PER_INVOCATION / 1000 * MEMORY_GB * LAMBDA_PRICE_PER_GB_SECOND
    return {"invocations": n, "usd": n / 1_000_000 * LAMBDA_PRICE_PER_MILLION_REQUESTS + compute,
            "latency_ms": invocations / requests * LATENCY_MS_PER_INVOCATION}


def main(argv: List[str]) -> int:
    global SESSIONS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=SESSIONS)
    parser.add_argument("--no-write", action="store_true", help="print only, leave CACHE_MODEL.md as it is")
    args = parser.parse_args(argv)
    SESSIONS = args.sessions

    rows = []
    for topology, same_origin in (("cross-origin", False), ("same-origin", True)):
        calls = trace(random.Random(SEED), same_origin)
        settings = {"require_origin": "writes"} if same_origin else {}
        authorizer = oauth_proxy.OAuthProxy(oauth_proxy.Config(
            trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX, encryption_key=KEY, **settings))
        for api_type in ("REST", "HTTP"):
            base = None
            for ttl in TTLS:
                requests, invocations, allowed = replay(shipped(api_type, ttl, same_origin), calls, authorizer)
                assert allowed == requests, "the model's requests are all legitimate: every one must pass"
                base = base or invocations
                cost = per_million(invocations, requests)
                rows.append((topology, api_type, ttl, requests, invocations, 1 - invocations / base, cost))

    header = ("| topology | API | TTL (s) | requests | authorizer invocations | avoided | invocations per 1M "
              "requests | Lambda cost per 1M requests (USD) | mean latency the authorizer adds (ms) |")
    lines = [header, "|---|---|---|---|---|---|---|---|---|"]
    for topology, api_type, ttl, requests, invocations, avoided, cost in rows:
        lines.append(f"| {topology} | {api_type} | {ttl} | {requests} | {invocations} | {avoided:.1%} | "
                     f"{cost['invocations']:,.0f} | {cost['usd']:.4f} | {cost['latency_ms']:.1f} |")
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        OUT.write_text(DOC.format(sessions=SESSIONS, table=table, **{k: v for k, v in globals().items()
                                                                       if k.isupper() and k != "OUT"}))
        print(f"\nwritten: {OUT}")
    return 0


DOC = """# Authorizer result cache: a model of what it saves

**This is a model, not a measurement.** `benchmarks/cache_model.py` replays a synthetic, seeded SPA trace
through the gateway model of `oauth_proxy.testing.gateway_cache` (API Gateway's identity-source cache as
docs/caching.md describes it), configured like the shipped descriptions, with the real authorizer behind it.
The invocation counts come from that replay; everything in money and milliseconds comes from the
assumptions below, none of which was measured on AWS.

Trace (seed {SEED}): {sessions} sessions starting uniformly over {ARRIVAL_WINDOW_S} s; a geometric number of calls
per session (mean {CALLS_PER_SESSION_MEAN}), in bursts of {BURST_CALLS[0]} to {BURST_CALLS[1]} calls 50 ms apart (a
screen loading), exponential think time between bursts (mean {THINK_TIME_MEAN_S} s); {WRITE_SHARE:.0%} of calls are
writes (POST, PUT, PATCH, DELETE with the CSRF header). Cross-origin: every call carries the Origin header;
same-origin (REQUIRE_ORIGIN=writes): GETs carry none, so the reads authorizer does not cache (docs/caching.md).

Assumptions for the per-million columns: Lambda list prices for x86_64 in us-east-1 (USD
{LAMBDA_PRICE_PER_MILLION_REQUESTS} per million requests, USD {LAMBDA_PRICE_PER_GB_SECOND} per GB-second),
{MEMORY_GB} GB of memory (the descriptions' 256 MB), {BILLED_MS_PER_INVOCATION} ms billed per warm invocation,
and {LATENCY_MS_PER_INVOCATION} ms added to a request by each warm authorizer invocation (API Gateway to Lambda and
back). Cold starts, API Gateway's own price (the same with or without the cache), and the introspection
calls the phantom-token cache already saves are left out.

{table}

Reading it: the saving comes from a user's calls that repeat the same key (same cookies, Origin, method, and
for writes the same CSRF header; for HTTP APIs also the route key) within the TTL. The writes authorizer keys
on the method, so a POST does not reuse a PUT's answer. What a longer TTL costs is in docs/caching.md: a
logout, a key rotation or a revoked token takes effect on the gateway only when the entry expires, unless the
stage's authorizer cache is flushed.
"""

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
