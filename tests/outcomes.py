"""One request per outcome of the authorizer (allow in each shape, every denial reason, the error paths of
the module functions and of configuration), for the leak checks: tests/test_leaks.py (RSS, bounded),
scripts/valgrind (memcheck) and scripts/rss-long (RSS over a million calls each).

`OUTCOMES` maps a name to a zero-argument callable that runs the case once and checks its result, so a
loop really exercises the path it is named after. Denial logging is configured off (log level CRITICAL):
the C side still calls the denial callback on every denial, and nothing piles up in a log handler."""
from __future__ import annotations

import gc
import os
import sys
import threading
from pathlib import Path
from typing import Callable, Dict

sys.path.insert(0, str(Path(__file__).resolve().parent))

import oauth_proxy  # noqa: E402
from oauth_proxy import _core  # noqa: E402
from conftest import (CSRF, KEY, OLD_KEY, ORIGIN, PREFIX, bearer_event, config, cookies, http_event,  # noqa: E402
                      make_jwt, rest_event)

JWT = make_jwt({"sub": "leak-user", "scope": "read write", "exp": 4102444800, "tenant": "acme", "level": 3,
                "ratio": 0.5, "admin": True, "groups": ["a", {"b": None}]})


def _proxy(**overrides) -> oauth_proxy.OAuthProxy:
    return oauth_proxy.OAuthProxy(config(log_level="CRITICAL", **overrides))


def build() -> Dict[str, Callable[[], None]]:
    plain = _proxy()
    rotated = _proxy(previous_encryption_keys=[OLD_KEY])
    bearer = _proxy(allow_token=True)
    scoped = _proxy(required_scopes=["admin"])
    iam = _proxy(http_api_response_format="iam")
    jar = cookies(JWT)
    jar_old = cookies(JWT, key=OLD_KEY)
    csrf_header = {f"x-{PREFIX}-csrf": CSRF}

    def allowed(p, event, principal=None):
        def run() -> None:
            response = p.authorize(event)
            assert response.get("isAuthorized", True) is True and "context" in response, response
            if principal is not None:
                assert response["principalId"] == principal
        return run

    def denied(p, event):
        def run() -> None:
            response = p.authorize(event)
            if "isAuthorized" in response:
                assert response == {"isAuthorized": False}
            else:
                assert response["policyDocument"]["Statement"][0]["Effect"] == "Deny"
        return run

    def unauthorized(p, event):
        def run() -> None:
            try:
                p.authorize(event)
            except oauth_proxy.Unauthorized:
                return
            raise AssertionError("expected Unauthorized")
        return run

    def raises(error, call):
        def run() -> None:
            try:
                call()
            except error:
                return
            raise AssertionError(f"expected {error.__name__}")
        return run

    def bad_authorizer() -> None:
        # The C constructor's failure path after one key was already set up (release_config).
        _core.Authorizer(trusted_origins=[ORIGIN], cookie_name_prefix=PREFIX, keys=[KEY, "zz"], allow_token=False,
                         required_scopes=[], simple_responses=True, on_deny=print)

    def round_trip() -> None:
        assert oauth_proxy.decrypt_cookie(oauth_proxy.encrypt_cookie("token-" * 20, KEY), KEY) == "token-" * 20

    counted = _proxy(metrics=True)

    def metrics_read() -> None:
        from oauth_proxy.metrics import EmfWriter

        counted.authorize(rest_event(headers={"Origin": ORIGIN, "Cookie": jar}))
        counted.authorize(rest_event(headers={"Cookie": jar}))
        taken = counted._take_metrics()
        assert taken["allowed"] == 1 and taken["denied"] == {"missing_origin": 1}, taken
        assert EmfWriter("OAuthProxy", phantom=False).lines(taken).startswith('{"_aws"')

    def new_proxy() -> None:
        _proxy(previous_encryption_keys=[OLD_KEY], required_scopes=["a", "b"]).authorize(
            rest_event(headers={"Origin": ORIGIN, "Cookie": jar}))

    cases = {
        **_library_cases(plain, raises, jar, csrf_header),
        **_cookie_generation_cases(allowed, denied),
        "allow_jwt_rest": allowed(plain, rest_event(headers={"Origin": ORIGIN, "Cookie": jar}), "leak-user"),
        "allow_opaque_rest": allowed(plain, rest_event(headers={"Origin": ORIGIN, "Cookie": cookies()})),
        "allow_post_http_simple": allowed(plain, http_event(headers={"origin": ORIGIN, **csrf_header},
                                                            cookie_list=jar.split("; "))),
        "allow_http_iam": allowed(iam, http_event(method="GET", headers={"origin": ORIGIN}, cookie_list=[jar])),
        "allow_previous_key": allowed(rotated, rest_event(headers={"Origin": ORIGIN}, multi={"Cookie": [jar_old]})),
        "allow_bearer_token": allowed(bearer, rest_event(headers={"Authorization": f"Bearer {JWT}"}), "leak-user"),
        "missing_origin": denied(plain, rest_event(headers={"Cookie": jar})),
        "untrusted_origin": denied(plain, rest_event(headers={"Origin": "https://evil.example", "Cookie": jar})),
        "csrf_cookie_missing": denied(plain, rest_event("POST", {"Origin": ORIGIN, "Cookie": cookies(csrf=None),
                                                                 **csrf_header})),
        "csrf_header_missing": denied(plain, rest_event("POST", {"Origin": ORIGIN, "Cookie": jar})),
        "csrf_mismatch": denied(plain, rest_event("PUT", {"Origin": ORIGIN, "Cookie": jar, f"x-{PREFIX}-csrf": "x"})),
        "csrf_decrypt_failed": denied(plain, rest_event("DELETE", {"Origin": ORIGIN, "Cookie": jar_old, **csrf_header})),
        "at_cookie_missing": unauthorized(plain, rest_event(headers={"Origin": ORIGIN, "Cookie": "theme=dark"})),
        "at_decrypt_failed": unauthorized(plain, rest_event(headers={"Origin": ORIGIN, "Cookie": jar_old})),
        "insufficient_scope": denied(scoped, rest_event(headers={"Origin": ORIGIN, "Cookie": jar})),
        "bad_event": denied(plain, rest_event(headers={"Origin": ORIGIN, "Cookie": jar}, arn=None)),
        "bad_event_oversized": denied(plain, rest_event(headers={"Origin": ORIGIN,
                                                                 "Cookie": f"{PREFIX}-at={'A' * 20000}"})),
        "cookie_round_trip": round_trip,
        "cookie_decryption_error": raises(oauth_proxy.CookieDecryptionError,
                                          lambda: oauth_proxy.decrypt_cookie(cookies(csrf=None)[len(PREFIX) + 4:],
                                                                             OLD_KEY)),
        "bad_key_value_error": raises(ValueError, lambda: oauth_proxy.encrypt_cookie("x", "00")),
        "config_error": raises(oauth_proxy.ConfigError, lambda: config(encryption_key="nothex")),
        "authorizer_init_failure": raises(ValueError, bad_authorizer),
        "proxy_lifecycle": new_proxy,
        "metrics_read": metrics_read,
    }
    if hasattr(_core.Authorizer, "_enable_phantom"):
        cases.update(_phantom_cases(allowed, unauthorized, raises))
    cases.update(_jwt_cases(allowed, unauthorized, raises))
    return cases


def _cookie_generation_cases(allowed, denied) -> Dict[str, Callable[[], None]]:
    """COOKIE_FORMAT v2 and v1,v2, CSRF_MODE=header, and the v2 cookie functions."""
    import json

    vectors = json.loads((Path(__file__).resolve().parent / "vectors" / "curity-v2.json").read_text("utf-8"))
    # A v2 cookie whose IV starts with the v1 version byte: under v1,v2 it is tried as v1 first, then again as v2.
    (looks_v1,) = [case for case in vectors["valid"] if case["name"].startswith("IV starting with 0x01")]
    header_mode = _proxy(cookie_format="v2", csrf_mode="header")
    migrating = oauth_proxy.OAuthProxy(config(log_level="CRITICAL", encryption_key=vectors["keys"]["A"],
                                              cookie_format="v1,v2", csrf_mode="header"))
    v2_jar = f"{PREFIX}-at={oauth_proxy.encrypt_cookie(JWT, KEY, format='v2')}"
    version = {"token-handler-version": "1"}

    def v2_round_trip() -> None:
        cookie = oauth_proxy.encrypt_cookie("token-" * 20, KEY, format="v2")
        assert oauth_proxy.decrypt_cookie(cookie, KEY, format="v2") == "token-" * 20

    return {
        "allow_cookie_v2_header_mode": allowed(header_mode, rest_event("POST", {"Origin": ORIGIN, "Cookie": v2_jar,
                                                                               **version}), "leak-user"),
        "allow_cookie_v1_v2_iv_starting_0x01": allowed(migrating, http_event(
            "GET", {"origin": ORIGIN, **version}, cookie_list=[f"{PREFIX}-at={looks_v1['cookie']}"])),
        "csrf_header_missing_header_mode": denied(header_mode, rest_event("GET", {"Origin": ORIGIN, "Cookie": v2_jar})),
        "csrf_mismatch_header_mode": denied(header_mode, rest_event("DELETE", {"Origin": ORIGIN, "Cookie": v2_jar,
                                                                               "token-handler-version": "2"})),
        "cookie_round_trip_v2": v2_round_trip,
    }


def _library_cases(plain, raises, jar, csrf_header) -> Dict[str, Callable[[], None]]:
    """authenticate / allow / deny, CONTEXT_CLAIMS, ROUTE_SCOPES and REQUIRE_ORIGIN."""
    claims = _proxy(context_claims="sub,tenant,level,ratio,admin,groups,absent")
    routes = _proxy(route_scopes="GET /orders/{id}=read; * /orders/*=write; * /*=nothing", http_api_response_format="iam")
    same_origin = _proxy(require_origin="writes")
    rest_ok = rest_event(headers={"Origin": ORIGIN, "Cookie": jar})
    http_ok = http_event(headers={"origin": ORIGIN, **csrf_header}, cookie_list=jar.split("; "))
    opaque = rest_event(headers={"Origin": ORIGIN, "Cookie": cookies()})

    def routed(resource=None, route_key=None):
        return dict(rest_ok, resource=resource) if route_key is None else dict(http_ok, routeKey=route_key)

    def authenticate_allow(p, event, context):
        def run() -> None:
            identity = p.authenticate(event)
            assert identity.principal == "leak-user" and "read" in identity.scopes
            assert identity.claims["groups"][1]["b"] is None and "leak-user" in repr(identity)
            response = p.allow(event, identity, context)
            assert response["context"]["token"] == f"Bearer {JWT}"
        return run

    def authenticate_opaque() -> None:
        identity = plain.authenticate(opaque)
        assert len(identity.claims) == 0 and identity.scopes == frozenset() and identity.source == "cookie"
        plain.allow(opaque, identity)

    def authenticate_denied(error, event, reason):
        def run() -> None:
            try:
                plain.authenticate(event)
            except error as denial:
                assert denial.reason == reason
                return
            raise AssertionError(f"expected {error.__name__}")
        return run

    identity = plain.authenticate(rest_ok)

    def deny(event, reason):
        def run() -> None:
            response = plain.deny(event, reason)
            assert response.get("isAuthorized", False) is False
        return run

    def routed_allow(event, resource):
        def run() -> None:
            assert routes.authorize(event)["policyDocument"]["Statement"][0]["Resource"] == resource
        return run

    def routed_deny(event):
        def run() -> None:
            assert routes.authorize(event)["policyDocument"]["Statement"][0]["Effect"] == "Deny"
        return run

    def context_claims(event):
        def run() -> None:
            context = claims.authorize(event)["context"]
            assert context["tenant"] == "acme" and context["admin"] is True and "groups" not in context
            assert claims.allow(event, claims.authenticate(event))["context"]["level"] == 3
        return run

    def same_origin_read() -> None:
        assert same_origin.authorize(rest_event(headers={"Cookie": jar}))["principalId"] == "leak-user"

    stranger = _proxy()  # same configuration, another instance: its Identity does not pass through `plain`
    other_request = dict(rest_ok, methodArn=rest_ok["methodArn"].replace("GET/orders/1", "DELETE/orders/1"))
    subclass_key = type("Key", (str,), {})("tenant")
    metered = _proxy(metrics=True)
    reasons = [f"reason_{n}" for n in range(34)]  # two more than the counters keep apart
    denials = [0]

    def reasons_past_the_cap() -> None:
        """One denial per call; every 34th call reads the counts: 32 reasons and the other two as "other"."""
        denials[0] += 1
        metered.deny(rest_ok, reasons[denials[0] % 34])
        if denials[0] % 34 == 0:
            denied = metered._take_metrics()["denied"]
            assert denied["other"] == 2 and sum(denied.values()) == 34, denied

    return {
        "authenticate_allow_rest": authenticate_allow(plain, rest_ok, {"tenant": "acme", "n": 1, "f": 0.5, "b": False}),
        "authenticate_allow_http": authenticate_allow(plain, http_ok, None),
        "authenticate_opaque": authenticate_opaque,
        "authenticate_forbidden": authenticate_denied(oauth_proxy.Forbidden, rest_event(headers={"Cookie": jar}),
                                                      "missing_origin"),
        "authenticate_bad_event": authenticate_denied(oauth_proxy.Forbidden, {"not": "an event"}, "bad_event"),
        "authenticate_unauthorized": authenticate_denied(oauth_proxy.Unauthorized,
                                                         rest_event(headers={"Origin": ORIGIN}), "at_cookie_missing"),
        "allow_context_type_error": raises(TypeError, lambda: plain.allow(rest_ok, identity, {"k": [1]})),
        "allow_context_token_override": raises(ValueError, lambda: plain.allow(rest_ok, identity, {"token": "x"})),
        "allow_not_an_identity": raises(TypeError, lambda: plain.allow(rest_ok, {"token": "x"})),
        "deny_builder_rest": deny(rest_ok, "tenant_mismatch"),
        "deny_builder_http": deny(http_ok, None),
        "deny_bad_reason": raises(ValueError, lambda: plain.deny(rest_ok, "not a reason code")),
        "route_scopes_exact": routed_allow(routed("/orders/{id}"), rest_ok["methodArn"]),
        "route_scopes_prefix_http": routed_allow(routed(route_key="POST /orders/{id}/items"), http_ok["routeArn"]),
        "route_scopes_insufficient": routed_deny(routed("/customers")),
        "route_scopes_bad_event": routed_deny({k: v for k, v in rest_ok.items() if k != "resource"}),
        "route_scopes_wildcard_arn": routed_deny(dict(routed("/orders/{id}"),
                                                      methodArn=rest_ok["methodArn"].rsplit("/", 1)[0] + "/*")),
        "context_claims_rest": context_claims(rest_ok),
        "context_claims_http": context_claims(http_ok),
        "require_origin_writes": same_origin_read,
        "allow_identity_of_another_proxy": raises(ValueError, lambda: stranger.allow(rest_ok, identity)),
        "allow_identity_of_another_request": raises(ValueError, lambda: plain.allow(other_request, identity)),
        "allow_context_key_str_subclass": raises(TypeError, lambda: plain.allow(rest_ok, identity, {subclass_key: 1})),
        "deny_metrics_reasons_past_the_cap": reasons_past_the_cap,
    }


# The loopback introspection endpoints of the phantom cases; close_servers() stops them.
SERVERS: list = []
# Phantom cases that go over the network on every call run this fraction of the calls in the RSS checks.
NETWORK_SHARE = 10


def _pool_lifecycle(phantom) -> Callable[[], None]:
    """A proxy whose pool grows to two connections for two concurrent misses, then is freed."""
    import fault_server as fs

    pair = threading.Barrier(2)

    def answer_in_pairs(server, conn) -> None:
        pair.wait(30)  # only two transfers at once get an answer: the pool's second connection is used
        fs.answer(200, JWT.encode())(server, conn)

    paired = fs.FaultServer(answer_in_pairs)
    SERVERS.append(paired)

    def run() -> None:
        p = phantom(introspection_url=paired.url, introspection_pool_size=2, introspection_cache_ttl=0, metrics=True)
        results: list = []
        calls = [threading.Thread(target=lambda n=n: results.append(
            p.authorize(bearer_event(f"opaque-{n}"))["principalId"])) for n in range(2)]
        for call in calls:
            call.start()
        for call in calls:
            call.join()
        assert results == ["leak-user", "leak-user"], results
        assert p._take_metrics()["introspection_calls"] == 2
    return run


def _phantom_cases(allowed, unauthorized, raises) -> Dict[str, Callable[[], None]]:
    from oauth_proxy.testing import IntrospectionEndpoint

    endpoint = IntrospectionEndpoint(history=0)  # counts only: the RSS checks measure this process
    SERVERS.append(endpoint)
    endpoint.issue("opaque-leak-check", jwt=JWT)
    endpoint.inactive("opaque-inactive")
    endpoint.fail("opaque-failing", 503)

    def phantom(**overrides):
        settings = dict(allow_token=True, use_phantom_token=True, introspection_url=endpoint.url,
                        client_id="leak-check", client_secret="leak-check-secret", introspection_timeout_ms=5000)
        settings.update(overrides)
        return _proxy(**settings)

    failing_proxy = phantom()
    failing = bearer_event("opaque-failing")
    pool_lifecycle = _pool_lifecycle(phantom)
    cookie = rest_event(headers={"Origin": ORIGIN, "Cookie": cookies("opaque-leak-check")})
    cached_claims_proxy = phantom(context_claims="tenant,groups")

    def cached_claims() -> None:
        assert cached_claims_proxy.authorize(cookie)["context"]["tenant"] == "acme"

    return {
        "phantom_cached_allow": allowed(phantom(), cookie, "leak-user"),
        "phantom_cached_context_claims": cached_claims,
        "phantom_network_allow": allowed(phantom(introspection_cache_ttl=0), bearer_event("opaque-leak-check"),
                                         "leak-user"),
        "phantom_network_token_inactive": unauthorized(phantom(), bearer_event("opaque-inactive")),
        "phantom_network_introspection_failed": raises(oauth_proxy.IntrospectionError,
                                                       lambda: failing_proxy.authorize(failing)),
        "phantom_network_pool_lifecycle": pool_lifecycle,
    }


_MINT = """
import json
from verified_jwt.jwks_support import ALL_KINDS, jwks, mint
print(json.dumps({"jwks": jwks(*ALL_KINDS),
                  "good": {alg: mint(alg, scope="read write", exp=4102444800) for alg in ("RS256", "ES256", "EdDSA")},
                  "read_only": mint("RS256", scope="read", exp=4102444800)}))
"""


def _jwt_cases(allowed, unauthorized, raises) -> Dict[str, Callable[[], None]]:
    """Verified JWTs (JWKS_URL): a first-sight verification (no verified-token cache), a cached one, a refused
    token, and a key set that cannot be had."""
    import json
    import subprocess

    from conftest import free_port
    from verified_jwt.jwks_endpoint import StaticJwksEndpoint

    # Keys and tokens are made by PyJWT and cryptography in a child process: cryptography's start-up
    # allocations are never freed, and valgrind would count them as this process's leaks.
    minted = json.loads(subprocess.run(
        [sys.executable, "-c", _MINT], cwd=Path(__file__).resolve().parent, check=True, capture_output=True,
        text=True).stdout)
    endpoint = StaticJwksEndpoint(minted["jwks"])
    SERVERS.append(endpoint)

    def verifying(**overrides):
        return _proxy(allow_token=True, jwks_url=endpoint.url, required_scopes=["read"], **overrides)

    good = {alg: bearer_event(token) for alg, token in minted["good"].items()}
    header, payload, signature = minted["read_only"].split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    forged = bearer_event(f"{header}.{payload}.{flipped}")
    uncached = verifying(introspection_cache_ttl=0)
    unreachable = _proxy(allow_token=True, jwks_url=f"http://127.0.0.1:{free_port()}/jwks")
    return {
        **{f"jwt_verified_{alg.lower()}": allowed(uncached, event, "alice") for alg, event in good.items()},
        "jwt_verified_cached": allowed(verifying(), good["ES256"], "alice"),
        "invalid_token": unauthorized(uncached, forged),
        "jwks_unavailable": raises(oauth_proxy.IntrospectionError, lambda: unreachable.authorize(good["RS256"])),
    }


def close_servers() -> None:
    while SERVERS:
        SERVERS.pop().close()


def calls_for(name: str, calls: int) -> int:
    if name == "phantom_network_pool_lifecycle":
        # A new proxy, two threads and two connections per call; a leaked connection (its 64 KiB buffer
        # and a curl handle) per call would still add megabytes over this many.
        return max(1, calls // (NETWORK_SHARE * 10))
    network = name.startswith("phantom_network") or name == "jwks_unavailable"
    return max(1, calls // NETWORK_SHARE) if network else calls


def run(name: str, calls: int, outcomes: Dict[str, Callable[[], None]]) -> None:
    """Runs one outcome `calls` times."""
    case = outcomes[name]
    for _ in range(calls):
        case()


def rss_bytes() -> int:
    with open("/proc/self/statm") as stream:
        return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def rss_growth(name: str, calls: int, outcomes: Dict[str, Callable[[], None]], warmup: int = 5000) -> int:
    """Resident memory gained over `calls` runs of one outcome, after `warmup` runs have filled the
    allocators' free lists and caches. A reference or malloc leak of even 20 bytes per call shows up as
    20 * calls bytes; the noise of a steady state is a few pages."""
    run(name, warmup, outcomes)
    gc.collect()
    before = rss_bytes()
    run(name, calls, outcomes)
    gc.collect()
    return rss_bytes() - before


def main(argv) -> int:
    """python tests/outcomes.py CALLS            every outcome CALLS times (scripts/valgrind)
       python tests/outcomes.py --rss CALLS [MB] RSS growth per outcome over CALLS calls (scripts/rss-long);
                                                 exit 1 when any grows by MB megabytes (default 1) or more"""
    cases = build()
    if argv[:1] == ["--rss"]:
        count = int(argv[1]) if len(argv) > 1 else 1_000_000
        limit = float(argv[2]) if len(argv) > 2 else 1.0
        worst = 0
        for case_name in cases:
            n = calls_for(case_name, count)
            growth = rss_growth(case_name, n, cases, warmup=min(5000, n))
            worst = max(worst, growth)
            print(f"rss: {case_name:36} {n:>9} calls  {growth / 1024:+9.0f} KiB", flush=True)
        close_servers()
        print(f"rss: largest growth {worst / 1024:.0f} KiB (limit {limit * 1024:.0f} KiB); "
              f"resident now {rss_bytes() / 2**20:.1f} MiB")
        return 0 if worst < limit * 2**20 else 1
    count = int(argv[0]) if argv else 10
    for case_name in cases:
        run(case_name, count, cases)
    close_servers()
    print(f"outcomes: {len(cases)} cases x {count} calls")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
