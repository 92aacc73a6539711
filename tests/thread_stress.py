"""Threads sharing authorizers, for scripts/tsan (ThreadSanitizer) and tests/test_thread_stress.py.

    python tests/thread_stress.py [--rounds N]

Two authorizers, each shared by several threads at once:
- the cookie path: origin, CSRF double submit, -at cookie decryption under the current and a previous key,
  JWT claims and scopes, every denial; with METRICS on, and a thread reading the counters meanwhile;
- the phantom path: more opaque tokens than the cache holds (hits, misses, evictions), more threads than
  the introspection pool has connections, and a flapping loopback endpoint that in turn answers a JWT,
  says inactive, fails with 503, answers late (past the timeout) or drops the connection.
Each outcome is checked against what that request must give; any mismatch fails the run (exit 1).
What this exercises in C: the token cache's mutex, the connection pool's lock and condition variable,
the GIL released around the transfer, and the state the GIL guards (key contexts, the digest context,
the metrics counters)."""
from __future__ import annotations

import argparse
import base64
import json
import sys
import threading
import time

import oauth_proxy
from oauth_proxy.testing import IntrospectionEndpoint, Reply

KEY = "7b99279ab87533d3c238db874a842a91ee26a76027f3c03c317504963d2c9926"
OLD_KEY = "4e4636356d65563e4c73233847503e3b21436e6f7629724950526f4b5e2e4e50"
ORIGIN = "https://www.example.com"
PREFIX = "example"
ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/orders"
CSRF = "pQguFsD6hFjnyYjaeC5KyijcWS6AvkJHiUmY7dLUsuTKsLAITLiJHVqsCdQpaGYO"


def jwt(claims: dict) -> str:
    part = lambda obj: base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2ln"


def event(method: str, headers: dict) -> dict:
    return {"type": "REQUEST", "methodArn": ARN, "httpMethod": method, "path": "/orders", "headers": headers,
            "multiValueHeaders": None, "requestContext": {"requestId": "stress"}}


def cookie_cases() -> list:
    """(event, expected outcome): a principal for an allow, else the denial's reason class."""
    def cookies(token, key=KEY, csrf=True):
        value = f"{PREFIX}-at={oauth_proxy.encrypt_cookie(token, key)}"
        if csrf:
            value += f"; {PREFIX}-csrf={oauth_proxy.encrypt_cookie(CSRF, key)}"
        return value
    user = jwt({"sub": "alice", "scope": "orders read"})
    no_scope = jwt({"sub": "bob", "scope": "read"})
    return [
        (event("GET", {"Origin": ORIGIN, "Cookie": cookies(user)}), "alice"),
        (event("POST", {"Origin": ORIGIN, "Cookie": cookies(user, OLD_KEY), f"x-{PREFIX}-csrf": CSRF}), "alice"),
        (event("GET", {"Origin": ORIGIN, "Cookie": cookies(no_scope)}), "deny"),
        (event("POST", {"Origin": ORIGIN, "Cookie": cookies(user), f"x-{PREFIX}-csrf": "wrong"}), "deny"),
        (event("GET", {"Origin": "https://evil.example", "Cookie": cookies(user)}), "deny"),
        (event("GET", {"Origin": ORIGIN, "Cookie": f"{PREFIX}-at=garbage"}), "unauthorized"),
    ]


def outcome(proxy, ev) -> str:
    try:
        response = proxy.authorize(ev)
    except oauth_proxy.Unauthorized:
        return "unauthorized"
    except oauth_proxy.IntrospectionError:
        return "error"
    if response["policyDocument"]["Statement"][0]["Effect"] == "Deny":
        return "deny"
    return response["principalId"]


class FlappingEndpoint:
    """Answers by the request's token: t<n> gets outcome n % 5, so every thread meets every outcome."""

    OUTCOMES = ("jwt", "inactive", "unavailable", "late", "drop")

    def __init__(self, late_seconds: float) -> None:
        self.server = IntrospectionEndpoint()
        self.late_seconds = late_seconds
        self.server.reply = self.reply

    @classmethod
    def expected(cls, token: str) -> str:
        kind = cls.OUTCOMES[int(token[1:]) % len(cls.OUTCOMES)]
        return {"jwt": token, "inactive": "unauthorized"}.get(kind, "error")

    def reply(self, request) -> Reply:
        token = request.body.decode().split("=", 1)[1]
        kind = self.OUTCOMES[int(token[1:]) % len(self.OUTCOMES)]
        if kind == "jwt":
            return Reply.jwt(jwt({"sub": token, "exp": int(time.time()) + 600}))
        if kind == "inactive":
            return Reply(204)
        if kind == "unavailable":
            return Reply(503)
        if kind == "late":
            return Reply(200, b"", delay=self.late_seconds)
        return Reply(abort=True)


def run(rounds: int, threads: int = 4) -> list:
    failures: list = []
    cookie_proxy = oauth_proxy.OAuthProxy(oauth_proxy.Config(
        trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX, encryption_key=KEY,
        previous_encryption_keys=[OLD_KEY], required_scopes="orders", metrics=True, log_level="CRITICAL"))
    endpoint = FlappingEndpoint(late_seconds=1.0)
    phantom_proxy = oauth_proxy.OAuthProxy(oauth_proxy.Config(
        trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX, encryption_key=KEY, allow_token=True,
        use_phantom_token=True, introspection_url=endpoint.server.url, client_id="stress", client_secret="s3cret",
        introspection_timeout_ms=400, introspection_cache_size=4, introspection_pool_size=2, metrics=True,
        log_level="CRITICAL"))
    cases = cookie_cases()
    start = threading.Barrier(2 * threads + 1)
    done = threading.Event()

    def cookie_worker(n: int) -> None:
        start.wait()
        for i in range(rounds * len(cases)):
            ev, expected = cases[(n + i) % len(cases)]
            got = outcome(cookie_proxy, ev)
            if got != expected:
                failures.append(f"cookie case {(n + i) % len(cases)}: {got} != {expected}")

    def phantom_worker(n: int) -> None:
        start.wait()
        for i in range(rounds):
            token = f"t{(n * 3 + i) % 10}"  # 10 tokens, a cache of 4
            got = outcome(phantom_proxy, event("GET", {"Authorization": f"Bearer {token}"}))
            # Any call may time out waiting for one of the pool's connections (late answers hold them
            # for longer than the timeout): "error" is always a right answer, no other mix-up is.
            if got != FlappingEndpoint.expected(token) and got != "error":
                failures.append(f"phantom {token}: {got} != {FlappingEndpoint.expected(token)}")

    def metrics_reader() -> None:
        start.wait()
        while not done.is_set():
            cookie_proxy._take_metrics()
            phantom_proxy._take_metrics()
            time.sleep(0.001)

    workers = [threading.Thread(target=cookie_worker, args=(n,)) for n in range(threads)]
    workers += [threading.Thread(target=phantom_worker, args=(n,)) for n in range(threads)]
    reader = threading.Thread(target=metrics_reader)
    for t in workers + [reader]:
        t.start()
    for t in workers:
        t.join()
    done.set()
    reader.join()
    endpoint.server.close()
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    started = time.monotonic()
    failures = run(args.rounds)
    print(f"thread_stress: {args.rounds} rounds in {time.monotonic() - started:.1f} s, "
          f"{len(failures)} wrong outcomes")
    for failure in failures[:20]:
        print("  " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
