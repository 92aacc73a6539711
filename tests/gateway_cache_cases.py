"""Shared by the authorizer-cache tests: users with their cookies, a hypothesis strategy of browser (and
attacker) request sequences, and the check that no cached answer allows what the authorizer refuses.

The requests cover every input of the decision: the user (two users, no cookies, a tampered access-token
cookie, no CSRF cookie), the method, the Origin (trusted, untrusted, absent), the CSRF header (right, absent,
wrong, another user's), the token-handler-version header (CSRF_MODE=header), the path, and time passing
between requests."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import oauth_proxy
from hypothesis import strategies as st
from oauth_proxy.testing import make_jwt
from oauth_proxy.testing.gateway_cache import Gateway, GatewayConfig, Request

PREFIX = "example"
ORIGIN = "https://www.example.com"
EVIL = "https://evil.example.net"
KEY = "7f" * 32
CSRF_HEADER = f"x-{PREFIX}-csrf"

USERS = {
    "alice": (make_jwt({"sub": "alice", "scope": "openid orders admin", "exp": 4102444800}), "alice-csrf"),
    "bob": (make_jwt({"sub": "bob", "scope": "openid orders", "exp": 4102444800}), "bob-csrf"),
}
_COOKIES = {name: (oauth_proxy.encrypt_cookie(token, KEY), oauth_proxy.encrypt_cookie(csrf, KEY))
            for name, (token, csrf) in USERS.items()}


def tampered(value: str) -> str:
    return value[:-3] + ("AAA" if value[-3:] != "AAA" else "BBB")


def cookie_header(user: str, with_csrf: bool, tamper: bool) -> Optional[str]:
    if user == "nobody":
        return "theme=dark"
    at, csrf = _COOKIES[user]
    parts = [f"{PREFIX}-at={tampered(at) if tamper else at}"]
    if with_csrf:
        parts.append(f"{PREFIX}-csrf={csrf}")
    return "; ".join(parts)


_STEP = st.fixed_dictionaries({
    "user": st.sampled_from(["alice", "bob", "nobody"]),
    "with_csrf_cookie": st.sampled_from([True, True, True, False]),
    "tamper": st.sampled_from([False, False, False, True]),
    "method": st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
    "origin": st.sampled_from(["trusted", "trusted", "untrusted", "absent"]),
    "csrf_header": st.sampled_from(["right", "right", "absent", "wrong", "other"]),
    "path": st.sampled_from(["/api/orders", "/api/orders/1", "/api/admin/users"]),
    # CSRF_MODE=header reads this one instead of the CSRF cookie and header.
    "version": st.sampled_from(["1", "1", "absent", "2"]),
    "advance": st.sampled_from([0, 0, 0, 1, 30, 59, 61, 299, 301, 400]),
})
# Valid-looking values are drawn more often than broken ones, so that Allows get cached and then tried by
# the requests that differ in one input.
steps = st.lists(_STEP, min_size=1, max_size=14)


def build(step: Dict[str, Any]) -> Request:
    headers: Dict[str, str] = {}
    cookie = cookie_header(step["user"], step["with_csrf_cookie"], step["tamper"])
    if cookie is not None:
        headers["Cookie"] = cookie
    if step["origin"] != "absent":
        headers["Origin"] = ORIGIN if step["origin"] == "trusted" else EVIL
    if step["csrf_header"] != "absent":
        user = step["user"] if step["user"] != "nobody" else "alice"
        other = "bob" if user == "alice" else "alice"
        headers[CSRF_HEADER] = {"right": USERS[user][1], "wrong": "guessed-value",
                                "other": USERS[other][1]}[step["csrf_header"]]
    if step.get("version", "absent") != "absent":
        headers["token-handler-version"] = step["version"]
    return Request(step["method"], step["path"], headers)


def proxy(**settings: Any) -> oauth_proxy.OAuthProxy:
    # log_level: one log line per denial otherwise, thousands per test
    return oauth_proxy.OAuthProxy(oauth_proxy.Config(trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX,
                                                     encryption_key=KEY, log_level="CRITICAL", **settings))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def first_violation(config: GatewayConfig, authorizer: oauth_proxy.OAuthProxy,
                    sequence: Sequence[Dict[str, Any]]) -> Optional[Tuple[int, str]]:
    """Replays the requests through the gateway model; the first request a cached answer let through although
    the authorizer alone refuses it (or lets it through with another token), else None."""
    clock = FakeClock()
    gateway = Gateway(config, authorizer.authorize, clock)
    for i, step in enumerate(sequence):
        clock.now += step["advance"]
        request = build(step)
        answer = gateway.handle(request)
        if not answer.allowed:
            continue
        alone = gateway.alone(request)
        if not alone.allowed:
            return i, f"cached answer allowed {request!r}; the authorizer answers {alone.status}"
        if (answer.context or {}).get("token") != (alone.context or {}).get("token"):
            return i, f"{request!r} went upstream with another request's token"
    return None


def describe(sequence: Sequence[Dict[str, Any]]) -> List[str]:
    return [repr(build(step)) + f" after {step['advance']} s" for step in sequence]
