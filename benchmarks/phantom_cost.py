"""Cost of the phantom token exchange, measured through OAuthProxy.authorize.

Against a loopback introspection server (the one the tests use), plain HTTP and HTTPS:
  baseline      phantom tokens off (bearer token passed through)
  cache hit     the JWT comes from the in-process cache
  miss, reuse   every call introspects (TTL 0), over one kept-alive connection
  miss, close   every call introspects, the server answers Connection: close,
                so each call pays a TCP (and TLS) handshake

Reports per-call figures; no thresholds. The server is Python's http.server,
so a miss mostly measures the server: read the differences, not the absolutes.

    .venv/bin/python benchmarks/phantom_cost.py [--calls N]

Measured on the project's 2-core Debian 12 machine (Python 3.11, libcurl 7.88.1, OpenSSL 3.0),
--calls 5000, medians per authorize() call (means are noisier: the Python server and GC):
                       http        https
  baseline             0.8 us      0.8 us
  cache hit            1.0 us      1.0 us     (SHA-256 of the token, LRU lookup, copy of the JWT)
  miss, reuse         70 us       85 us       (one connection for all 5000 calls)
  miss, close        296 us     1006 us       (a TCP, and TLS, handshake on every call)
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tls_ca: the throwaway CA of the tests

import oauth_proxy  # noqa: E402
from oauth_proxy.testing import IntrospectionEndpoint, Reply, make_jwt  # noqa: E402
from tls_ca import TestCA  # noqa: E402

KEY = "00" * 32


def proxy_for(url=None, ca_file=None, ttl=300):
    cfg = dict(trusted_web_origins=["https://www.example.com"], cookie_name_prefix="example",
               encryption_key=KEY, allow_token=True)
    if url is not None:
        cfg.update(use_phantom_token=True, introspection_url=url, client_id="bench-client",
                   client_secret="bench-secret", introspection_ca_file=ca_file,
                   introspection_cache_ttl=ttl, introspection_timeout_ms=5000)
    return oauth_proxy.OAuthProxy(oauth_proxy.Config(**cfg))


def event(token):
    return {"methodArn": "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/x",
            "httpMethod": "GET", "headers": {"Authorization": f"Bearer {token}"}}


def measure(proxy, calls, token_for):
    proxy.authorize(event(token_for(-1)))  # warm up: connection, TLS session, caches
    samples = []
    for i in range(calls):
        ev = event(token_for(i))
        t = time.perf_counter()
        proxy.authorize(ev)
        samples.append(time.perf_counter() - t)
    return samples


def show(name, samples):
    us = sorted(s * 1e6 for s in samples)
    p99 = us[min(len(us) - 1, int(len(us) * 0.99))]
    print(f"  {name:<22} median {statistics.median(us):9.1f} us   mean {statistics.fmean(us):9.1f} us"
          f"   p99 {p99:9.1f} us   ({len(us)} calls)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=2000)
    args = ap.parse_args()
    n = args.calls
    jwt = make_jwt({"sub": "bench", "scope": "read write", "exp": int(time.time()) + 3600})
    keep = Reply(200, jwt.encode(), "application/jwt")
    close = Reply(200, jwt.encode(), "application/jwt", close=True)
    same = lambda i: "opaque-token-bench"  # noqa: E731
    distinct = lambda i: f"opaque-token-{i}"  # noqa: E731

    with tempfile.TemporaryDirectory() as tmp:
        ca = TestCA(pathlib.Path(tmp))
        for label, server, ca_file in [
            ("http", IntrospectionEndpoint(), None),
            ("https", IntrospectionEndpoint(ca.server_context()), str(ca.ca_file)),
        ]:
            try:
                print(f"{label} ({n} calls each; handshake-per-call rows use {max(n // 4, 1)})")
                show("baseline (no phantom)", measure(proxy_for(), n, same))
                server.reply = keep
                show("cache hit", measure(proxy_for(server.url, ca_file), n, same))
                server.reset()
                show("miss, connection reuse", measure(proxy_for(server.url, ca_file, ttl=0), n, distinct))
                reused = server.connections
                server.reply = close
                server.reset()
                show("miss, Connection: close", measure(proxy_for(server.url, ca_file, ttl=0), max(n // 4, 1), distinct))
                print(f"  (server saw {reused} connection(s) for the reuse run, {server.connections} for the close run)")
            finally:
                server.close()


if __name__ == "__main__":
    main()
