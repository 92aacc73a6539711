"""Verified JWTs (JWKS_URL): what verifies, what is refused as invalid_token, and jwks_unavailable."""
from __future__ import annotations

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives import serialization

import oauth_proxy
from conftest import bearer_event, cookie_event, free_port
from verified_jwt.jwks_support import (ALGORITHMS, AUDIENCE, DEFAULT_ALGORITHMS, ISSUER, JwksEndpoint, jwks,
                              mint, private_key, public_jwk)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unauthorized(proxy, event, denials, reason="invalid_token"):
    with pytest.raises(oauth_proxy.Unauthorized) as caught:
        proxy.authorize(event)
    assert caught.value.reason == reason
    assert denials.reasons[-1] == reason


# ---- what verifies ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("alg", ALGORITHMS)
def test_every_supported_algorithm_verifies_when_accepted(alg, verifying):
    token = mint(alg)
    response = verifying(jwt_algorithms=[alg]).authorize(bearer_event(token))
    assert response["context"]["token"] == f"Bearer {token}"
    assert response["principalId"] == "alice"


@pytest.mark.parametrize("alg", DEFAULT_ALGORITHMS)
def test_default_algorithms(alg, verifying):
    identity = verifying().authenticate(bearer_event(mint(alg)))
    assert identity.verified is True
    assert identity.source == "bearer"


@pytest.mark.parametrize("alg", sorted(set(ALGORITHMS) - set(DEFAULT_ALGORITHMS)))
def test_algorithms_outside_the_default_are_refused(alg, verifying, denials):
    unauthorized(verifying(), bearer_event(mint(alg)), denials)


def test_without_jwks_url_a_token_is_not_verified():
    from conftest import proxy

    identity = proxy(allow_token=True).authenticate(bearer_event(mint("RS256")))
    assert identity.verified is False


def test_a_cookie_jwt_is_verified(verifying, denials):
    identity = verifying().authenticate(cookie_event(mint("ES256")))
    assert identity.verified is True and identity.source == "cookie"
    from cryptography.hazmat.primitives.asymmetric import ec

    forged = mint("ES256", key=ec.generate_private_key(ec.SECP256R1()), kid="p-256-1")  # another key, same kid
    unauthorized(verifying(), cookie_event(forged), denials)


def test_an_opaque_cookie_token_goes_on_unverified(verifying):
    identity = verifying().authenticate(cookie_event("42665300-efe8-419d-be52-07b53e208f46"))
    assert identity.verified is False
    assert identity.claims == {}


@pytest.mark.parametrize("token", ["42665300-efe8-419d-be52-07b53e208f46", "a.b", "a.b.c.d", "...", "x.y.z"])
def test_a_bearer_token_that_is_not_a_jws_is_invalid(token, verifying, denials):
    unauthorized(verifying(), bearer_event(token), denials)


# ---- claims ---------------------------------------------------------------------------------------------------

def test_exp_is_required(verifying, denials):
    unauthorized(verifying(), bearer_event(mint(exp=None)), denials)


def test_expired_past_the_leeway(verifying, denials):
    unauthorized(verifying(), bearer_event(mint(exp=int(time.time()) - 120)), denials)


def test_exp_within_the_leeway_passes(verifying):
    assert verifying().authenticate(bearer_event(mint(exp=int(time.time()) - 20))).verified


def test_nbf_in_the_future(verifying, denials):
    unauthorized(verifying(), bearer_event(mint(nbf=int(time.time()) + 600)), denials)
    assert verifying().authenticate(bearer_event(mint(nbf=int(time.time()) + 20))).verified


@pytest.mark.parametrize("iss", ["https://evil.example", ISSUER + "/", None])
def test_issuer_must_match(iss, verifying, denials):
    unauthorized(verifying(), bearer_event(mint(iss=iss)), denials)


def test_issuer_unchecked_when_unset(verifying):
    assert verifying(jwt_issuer=None).authenticate(bearer_event(mint(iss="anyone"))).verified


@pytest.mark.parametrize("aud, ok", [(AUDIENCE, True), (["other", AUDIENCE], True), (["other"], False),
                                     ("other", False), (None, False), ([], False), (1, False)])
def test_audience_string_or_array(aud, ok, verifying, denials):
    event = bearer_event(mint(aud=aud))
    if ok:
        assert verifying().authenticate(event).verified
    else:
        unauthorized(verifying(), event, denials)


def test_any_configured_audience_suffices(verifying):
    proxy = verifying(jwt_audience=["first", "second"])
    assert proxy.authenticate(bearer_event(mint(aud="second"))).verified


# ---- header rules and attacks ---------------------------------------------------------------------------------

def test_crit_is_refused(verifying, denials):
    unauthorized(verifying(), bearer_event(mint(headers={"crit": ["exp"]})), denials)


@pytest.mark.parametrize("member", ["jwk", "jku", "x5u", "x5c"])
def test_embedded_or_remote_keys_are_never_trusted(member, verifying, jwks_endpoint, denials):
    from cryptography.hazmat.primitives.asymmetric import ec

    own = ec.generate_private_key(ec.SECP256R1())
    values = {"jwk": public_jwk(own, None), "jku": jwks_endpoint.url + "?attacker", "x5u": "https://evil.example/c",
              "x5c": ["MIIB"]}
    token = mint("ES256", key=own, headers={member: values[member]})
    unauthorized(verifying(), bearer_event(token), denials)
    assert all(path == "/jwks" for path in jwks_endpoint.paths)


def test_none_is_refused(verifying, denials):
    header = b64(json.dumps({"alg": "none", "kid": "rsa-1"}).encode())
    payload = b64(json.dumps({"sub": "mallory", "exp": 4102444800, "iss": ISSUER, "aud": AUDIENCE}).encode())
    for token in (f"{header}.{payload}.", f"{header}.{payload}.c2ln"):
        unauthorized(verifying(), bearer_event(token), denials)


def test_hs256_keyed_with_the_rsa_public_key_is_refused(verifying, denials):
    """The classic algorithm confusion: an HMAC whose secret is the server's public key in PEM."""
    import hashlib
    import hmac

    pem = private_key("RSA").public_key().public_bytes(serialization.Encoding.PEM,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo)
    header = b64(json.dumps({"alg": "HS256", "kid": "rsa-1", "typ": "JWT"}).encode())
    payload = b64(json.dumps({"sub": "mallory", "exp": 4102444800, "iss": ISSUER, "aud": AUDIENCE}).encode())
    for secret in (pem, json.dumps(jwks("RSA")["keys"][0]).encode()):
        mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        unauthorized(verifying(jwt_algorithms=["RS256"]), bearer_event(f"{header}.{payload}.{b64(mac)}"), denials)


@pytest.mark.parametrize("alg, kid", [("RS256", "p-256-1"), ("ES256", "rsa-1"), ("EdDSA", "p-256-1"),
                                      ("ES384", "p-256-1"), ("PS256", "ed25519-1")])
def test_alg_and_key_type_must_match(alg, kid, verifying, denials):
    unauthorized(verifying(jwt_algorithms=list(ALGORITHMS)), bearer_event(mint(alg, kid=kid)), denials)


def test_a_tampered_payload_or_signature_fails(verifying, denials):
    token = mint("RS256")
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "mallory"
    unauthorized(verifying(), bearer_event(f"{header}.{b64(json.dumps(claims).encode())}.{signature}"), denials)
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    unauthorized(verifying(), bearer_event(f"{header}.{payload}.{flipped}"), denials)


@pytest.mark.parametrize("header", [
    "not json", "[]", '{"alg":1}', '{"alg":"RS256","kid":5}', '{"alg":"RS256",}', '{"alg":"RS256"}x',
    '{"alg":"rs256"}', '{"alg":"HS512"}', '{"alg":"ES256K"}', '{"alg":"Ed25519"}'])
def test_malformed_headers(header, verifying, denials):
    token = mint("RS256")
    _, payload, signature = token.split(".")
    unauthorized(verifying(jwt_algorithms=list(ALGORITHMS)), bearer_event(f"{b64(header.encode())}.{payload}.{signature}"),
                 denials)


def test_a_huge_header_is_refused_without_harm(verifying, denials):
    token = mint("RS256", headers={"pad": "x" * 70000})
    unauthorized(verifying(), bearer_event(token), denials)


def test_a_deeply_nested_header_is_refused(verifying, denials):
    header = '{"alg":"RS256","x":' + "[" * 5000 + "]" * 5000 + "}"
    token = mint("RS256")
    _, payload, signature = token.split(".")
    unauthorized(verifying(), bearer_event(f"{b64(header.encode())}.{payload}.{signature}"), denials)


@pytest.mark.parametrize("cut", [1, 2, 10])
def test_wrong_signature_lengths(cut, verifying, denials):
    for alg in DEFAULT_ALGORITHMS:
        header, payload, signature = mint(alg).split(".")
        raw = base64.urlsafe_b64decode(signature + "==")
        unauthorized(verifying(), bearer_event(f"{header}.{payload}.{b64(raw[:-cut])}"), denials)
        unauthorized(verifying(), bearer_event(f"{header}.{payload}.{b64(raw + bytes(cut))}"), denials)


def test_ecdsa_signature_with_zero_or_order_sized_parts_fails(verifying, denials):
    header, payload, _ = mint("ES256").split(".")
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    for r, s in ((0, 0), (1, 0), (order, 1), (order + 1, 1)):
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        unauthorized(verifying(), bearer_event(f"{header}.{payload}.{b64(sig)}"), denials)


# ---- key selection ----------------------------------------------------------------------------------------------

def test_without_kid_the_one_key_of_that_type(jwks_endpoint, verifying, denials):
    jwks_endpoint.document = jwks("RSA", "P-256")
    assert verifying().authenticate(bearer_event(mint("ES256", kid=None))).verified
    # two RSA keys: no kid is ambiguous
    second = public_jwk(private_key("RSA"), "rsa-2")
    jwks_endpoint.document = {"keys": jwks("RSA")["keys"] + [second]}
    unauthorized(verifying(), bearer_event(mint("RS256", kid=None)), denials)


def test_unknown_kid_is_invalid(verifying, denials):
    unauthorized(verifying(), bearer_event(mint("RS256", kid="nobody")), denials)


# ---- the JWKS ---------------------------------------------------------------------------------------------------

def test_jwks_fetched_once_and_kept(jwks_endpoint, verifying):
    proxy = verifying()
    for _ in range(3):
        proxy.authorize(bearer_event(mint("RS256", jti=str(time.time_ns()))))
    assert jwks_endpoint.fetches == 1


def test_unknown_kid_fetches_again_at_most_every_30_seconds(jwks_endpoint, verifying, denials):
    jwks_endpoint.document = jwks("RSA")
    proxy = verifying()
    proxy.authorize(bearer_event(mint("RS256")))
    assert jwks_endpoint.fetches == 1
    # a rotation: the new key appears under a new kid, and is found by fetching again
    jwks_endpoint.document = jwks("RSA", "P-256")
    assert proxy.authenticate(bearer_event(mint("ES256"))).verified
    assert jwks_endpoint.fetches == 2
    # made-up kids right after do not fetch again
    for i in range(5):
        unauthorized(proxy, bearer_event(mint("RS256", kid=f"made-up-{i}")), denials)
    assert jwks_endpoint.fetches == 2


def test_keys_are_kept_when_the_endpoint_later_fails(jwks_endpoint, verifying, denials):
    proxy = verifying()
    proxy.authorize(bearer_event(mint("RS256")))
    jwks_endpoint.status = 503
    proxy.authorize(bearer_event(mint("RS256", jti="again")))
    unauthorized(proxy, bearer_event(mint("RS256", kid="rotated")), denials)  # a fetch that fails
    jwks_endpoint.close()
    proxy.authorize(bearer_event(mint("ES256", jti="third")))


@pytest.mark.parametrize("failure", ["refused", "status", "garbage"])
def test_no_keys_ever_fetched_is_500_jwks_unavailable(failure, jwks_endpoint, verifying, denials):
    if failure == "refused":
        proxy = verifying(jwks_url=f"http://127.0.0.1:{free_port()}/jwks")
    else:
        proxy = verifying()
        if failure == "status":
            jwks_endpoint.status = 500
        else:
            jwks_endpoint.body = b"<html>not a key set</html>"
    with pytest.raises(oauth_proxy.IntrospectionError) as caught:
        proxy.authorize(bearer_event(mint("RS256")))
    assert "jwks" in str(caught.value).lower()
    assert caught.value.reason == "jwks_unavailable" and caught.value.status == 500
    assert denials.reasons[-1] == "jwks_unavailable"
    assert oauth_proxy.REASONS["jwks_unavailable"] == 500
    assert oauth_proxy.REASONS["invalid_token"] == 401


def test_jwks_unavailable_then_reachable(jwks_endpoint, verifying):
    jwks_endpoint.status = 500
    proxy = verifying()
    with pytest.raises(oauth_proxy.IntrospectionError):
        proxy.authorize(bearer_event(mint("RS256")))
    jwks_endpoint.status = 200
    assert proxy.authenticate(bearer_event(mint("RS256"))).verified


def test_a_redirect_is_not_followed(verifying):
    import http.server
    import threading

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        proxy = verifying(jwks_url=f"http://127.0.0.1:{server.server_address[1]}/jwks")
        with pytest.raises(oauth_proxy.IntrospectionError):
            proxy.authorize(bearer_event(mint("RS256")))
    finally:
        server.shutdown()
        server.server_close()


def test_jwks_over_tls_with_the_configured_ca(test_ca, tmp_path):
    import http.server
    import threading

    document = json.dumps(jwks("RSA")).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = test_ca.server_context().wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    from conftest import config

    try:
        url = f"https://127.0.0.1:{server.server_address[1]}/jwks"
        trusted = oauth_proxy.OAuthProxy(config(allow_token=True, jwks_url=url, introspection_ca_file=str(test_ca.ca_file)))
        assert trusted.authenticate(bearer_event(mint("RS256"))).verified
        untrusted = oauth_proxy.OAuthProxy(config(allow_token=True, jwks_url=url))
        with pytest.raises(oauth_proxy.IntrospectionError):
            untrusted.authorize(bearer_event(mint("RS256")))
    finally:
        server.shutdown()
        server.server_close()


def test_unusable_keys_in_the_set_are_skipped(jwks_endpoint, verifying):
    weak = public_jwk(pyjwt_weak_rsa(), "weak")
    oct_key = {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}
    enc = public_jwk(private_key("P-256"), "enc", use="enc")
    jwks_endpoint.document = {"keys": [weak, oct_key, enc] + jwks("RSA")["keys"]}
    assert verifying().authenticate(bearer_event(mint("RS256"))).verified


def pyjwt_weak_rsa():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


@pytest.mark.filterwarnings("ignore:The RSA key is 1024 bits")  # PyJWT signs with it, warning, as the test wants
def test_a_weak_rsa_key_never_verifies(jwks_endpoint, verifying, denials):
    weak = pyjwt_weak_rsa()
    jwks_endpoint.document = {"keys": [public_jwk(weak, "weak")]}
    unauthorized(verifying(), bearer_event(mint("RS256", key=weak, kid="weak")), denials)


def test_an_ec_point_off_the_curve_is_not_a_key(jwks_endpoint, verifying, denials):
    good = public_jwk(private_key("P-256"), "p-256-1")
    y = int.from_bytes(base64.urlsafe_b64decode(good["y"] + "=="), "big")
    bad = dict(good, y=b64(((y + 1) % (2**256)).to_bytes(32, "big")))
    jwks_endpoint.document = {"keys": [bad]}
    unauthorized(verifying(), bearer_event(mint("ES256")), denials)


def test_ec_coordinates_of_the_wrong_size_are_not_a_key(jwks_endpoint, verifying, denials):
    good = public_jwk(private_key("P-256"), "p-256-1")
    x = base64.urlsafe_b64decode(good["x"] + "==")
    jwks_endpoint.document = {"keys": [dict(good, x=b64(b"\x00" + x))]}
    unauthorized(verifying(), bearer_event(mint("ES256")), denials)


# ---- configuration ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("algorithms", [["none"], ["HS256"], ["RS256", "HS512"], ["ES256K"], ["RS256", "none"], []])
def test_bad_algorithms_are_a_config_error(algorithms):
    from conftest import config

    with pytest.raises(oauth_proxy.ConfigError) as caught:
        oauth_proxy.OAuthProxy(config(jwks_url="https://login.example.com/jwks", jwt_algorithms=algorithms))
    assert "JWT_ALGORITHMS" in str(caught.value)


def test_jwt_algorithms_from_env():
    from conftest import KEY, ORIGIN, PREFIX

    env = {"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX, "ENCRYPTION_KEY": KEY,
           "JWKS_URL": "https://login.example.com/jwks", "JWT_ALGORITHMS": " ES256 , EdDSA ",
           "JWT_AUDIENCE": "a, b", "JWT_ISSUER": ISSUER}
    cfg = oauth_proxy.Config.from_env(env)
    assert list(cfg.jwt_algorithms) == ["ES256", "EdDSA"]
    assert list(cfg.jwt_audience) == ["a", "b"]
    with pytest.raises(oauth_proxy.ConfigError):
        oauth_proxy.Config.from_env(dict(env, JWT_ALGORITHMS="none"))


@pytest.mark.parametrize("url", ["ftp://login.example.com/jwks", "login.example.com/jwks", "file:///etc/passwd"])
def test_jwks_url_must_be_http(url):
    from conftest import config

    with pytest.raises(oauth_proxy.ConfigError) as caught:
        oauth_proxy.OAuthProxy(config(jwks_url=url))
    assert "JWKS_URL" in str(caught.value)


@pytest.mark.parametrize("extra", [dict(required_scopes="orders:read"), dict(context_claims=["email"]),
                                   dict(route_scopes="GET /orders=orders:read")])
def test_allow_token_with_claim_checks_needs_verification(extra):
    from conftest import config

    with pytest.raises(oauth_proxy.ConfigError) as caught:
        oauth_proxy.OAuthProxy(config(allow_token=True, **extra))
    assert "JWKS_URL" in str(caught.value)
    oauth_proxy.OAuthProxy(config(allow_token=True, jwks_url="https://login.example.com/jwks", **extra))
    oauth_proxy.OAuthProxy(config(allow_token=False, **extra))


def test_scopes_come_from_the_verified_token(verifying, denials):
    proxy = verifying(required_scopes="orders:read")
    assert proxy.authenticate(bearer_event(mint("RS256", scope="orders:read"))).verified
    from cryptography.hazmat.primitives.asymmetric import rsa

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = mint("RS256", key=stranger, scope="orders:read admin")
    unauthorized(proxy, bearer_event(forged), denials)


def test_no_token_in_logs_or_errors(verifying, jwks_endpoint, caplog):
    token = mint("RS256", kid="nobody")
    proxy = verifying()
    with caplog.at_level("DEBUG", logger="oauth_proxy"):
        with pytest.raises(oauth_proxy.Unauthorized) as caught:
            proxy.authorize(bearer_event(token))
    assert token not in caplog.text and token.split(".")[2] not in caplog.text
    assert token not in str(caught.value) and token not in repr(caught.value)


def test_threads_share_one_key_set_through_a_rotation(jwks_endpoint, verifying):
    """Several threads verify at once while the key set rotates: the fetch runs without the GIL and without
    the key set's lock, and every thread sees either the old or the new set, never a torn one."""
    import threading

    jwks_endpoint.document = jwks("RSA")
    proxy = verifying()
    tokens = [mint("RS256", jti=f"r{i}") for i in range(40)] + [mint("ES256", jti=f"e{i}") for i in range(40)]
    results, errors = [], []
    start = threading.Barrier(4)

    def worker(part):
        start.wait()
        for token in part:
            try:
                results.append(proxy.authenticate(bearer_event(token)).verified)
            except Exception as exc:  # noqa: BLE001 (collected and asserted below)
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(tokens[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    jwks_endpoint.document = jwks("RSA", "P-256")  # the EC key appears while they run
    for t in threads:
        t.join()
    # An ES256 token seen before the new set was published may be refused; nothing else may go wrong.
    assert all(isinstance(e, oauth_proxy.Unauthorized) and e.reason == "invalid_token" for e in errors)
    assert all(results) and len(results) + len(errors) == len(tokens)
    assert proxy.authenticate(bearer_event(mint("ES256", jti="after"))).verified


def test_context_claims_and_route_scopes_of_a_verified_bearer_token(verifying, denials):
    proxy = verifying(context_claims="tenant", route_scopes="GET /orders=orders:read")
    response = proxy.authorize(bearer_event(mint("RS256", tenant="acme", scope="orders:read")))
    assert response["context"]["tenant"] == "acme"
    assert response["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    denied = proxy.authorize(bearer_event(mint("RS256", tenant="acme", scope="other")))
    assert denied["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert denials.reasons[-1] == "insufficient_scope"


# ---- with the phantom token exchange -------------------------------------------------------------------------

def test_the_phantom_exchanges_jwt_must_verify(verifying, introspection_endpoint, denials):
    good, forged = mint("ES256", sub="bob"), mint("ES256", key=pyjwt_stranger_p256(), sub="mallory")
    introspection_endpoint.issue("opaque-good", jwt=good)
    introspection_endpoint.issue("opaque-forged", jwt=forged)
    proxy = verifying(use_phantom_token=True, introspection_url=introspection_endpoint.url, client_id="gw",
                      client_secret="gw-secret")
    identity = proxy.authenticate(cookie_event("opaque-good"))
    assert identity.verified and identity.token == good and identity.principal == "bob"
    unauthorized(proxy, cookie_event("opaque-forged"), denials)
    # a bearer token must itself be a JWS that verifies, before any exchange
    unauthorized(proxy, bearer_event("opaque-good"), denials)


def pyjwt_stranger_p256():
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())
