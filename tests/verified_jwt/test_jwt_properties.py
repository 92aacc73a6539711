"""The verifier agrees with an independent one (PyJWT with cryptography, configured with the same rules:
required exp, 60 s leeway, issuer, audience, accepted algorithms) on generated tokens: claims on either side of
every limit, algorithms inside and outside the accepted set, and tampered signatures and payloads."""
from __future__ import annotations

import base64
import json
import time

import jwt as pyjwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import oauth_proxy
from conftest import bearer_event
from verified_jwt.jwks_support import ALGORITHMS, AUDIENCE, ISSUER, key_kind, kid_for, private_key

ACCEPTED_SETS = (("RS256", "PS256", "ES256", "EdDSA"), ALGORITHMS, ("ES256",), ("RS512", "PS384", "ES512"))
# Offsets from now, away from the limits (exp + 60 s, nbf - 60 s) so that a second passing between the two
# verifiers cannot change an answer.
OFFSETS = (-3600, -120, -30, 0, 30, 120, 3600)

absent = st.just(None)
claim_sets = st.fixed_dictionaries({
    "exp": st.one_of(absent, st.sampled_from(OFFSETS), st.just("soon")),
    "nbf": st.one_of(absent, st.sampled_from(OFFSETS)),
    "iss": st.one_of(absent, st.sampled_from([ISSUER, "https://evil.example", ISSUER.upper()])),
    "aud": st.one_of(absent, st.sampled_from([AUDIENCE, "other", [AUDIENCE, "other"], ["other"], [],
                                              [1, AUDIENCE], {"aud": AUDIENCE}])),
    "sub": st.text(max_size=8),
})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pyjwt_accepts(token: str, alg: str, accepted) -> bool:
    try:
        pyjwt.decode(token, private_key(key_kind(alg)).public_key(), algorithms=list(accepted), issuer=ISSUER,
                     audience=AUDIENCE, leeway=60, options={"require": ["exp"], "verify_iat": False})
        return True
    except pyjwt.PyJWTError:
        return False


def ours_accepts(proxy, token: str) -> bool:
    try:
        return proxy.authenticate(bearer_event(token)).verified
    except oauth_proxy.Unauthorized as refused:
        assert refused.reason == "invalid_token"
        return False


def test_agrees_with_pyjwt(verifying):
    proxies = [verifying(jwt_algorithms=list(accepted)) for accepted in ACCEPTED_SETS]

    @settings(max_examples=300, deadline=None)
    @given(claim_sets, st.sampled_from(ALGORITHMS), st.integers(0, len(ACCEPTED_SETS) - 1),
           st.sampled_from(["none", "signature", "payload", "header"]))
    def check(values, alg, which, tamper):
        now = int(time.time())
        payload = {k: (now + v if k in ("exp", "nbf") and isinstance(v, int) else v)
                   for k, v in values.items() if v is not None}
        token = pyjwt.encode(payload, private_key(key_kind(alg)), algorithm=alg, headers={"kid": kid_for(alg)})
        header, body, signature = token.split(".")
        if tamper == "signature":
            raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
            raw[len(raw) // 2] ^= 0x20
            token = f"{header}.{body}.{b64(bytes(raw))}"
        elif tamper == "payload":
            token = f"{header}.{b64(json.dumps(dict(payload, sub='mallory')).encode())}.{signature}"
        elif tamper == "header":
            token = f"{b64(json.dumps({'alg': alg, 'kid': kid_for(alg), 'x': 1}).encode())}.{body}.{signature}"
        accepted = ACCEPTED_SETS[which]
        assert ours_accepts(proxies[which], token) == pyjwt_accepts(token, alg, accepted), (values, alg, tamper)

    check()


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_each_algorithm_refused_outside_its_set(alg, verifying):
    others = [a for a in ALGORITHMS if a != alg]
    token = pyjwt.encode({"exp": int(time.time()) + 600, "iss": ISSUER, "aud": AUDIENCE},
                         private_key(key_kind(alg)), algorithm=alg, headers={"kid": kid_for(alg)})
    assert not ours_accepts(verifying(jwt_algorithms=others), token)
    assert not pyjwt_accepts(token, alg, others)
