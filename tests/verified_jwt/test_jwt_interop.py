"""Tokens minted by three independent JOSE libraries verify here: PyJWT (with cryptography), joserfc and
Node's `jose`; and the published examples of RFC 7515, RFC 7520 and RFC 8037 (tests/vectors/jws_rfc.json)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from conftest import REPO, bearer_event
from verified_jwt.jwks_support import ALGORITHMS, claims, key_kind, kid_for, mint, private_key

from oauth_proxy import _core

VECTORS = json.loads((REPO / "tests" / "vectors" / "jws_rfc.json").read_text(encoding="utf-8"))


def private_jwk(alg: str) -> dict:
    """The private JWK of the session key for alg (joserfc exports it)."""
    from joserfc.jwk import ECKey, OKPKey, RSAKey

    key = private_key(key_kind(alg))
    if isinstance(key, rsa.RSAPrivateKey):
        return RSAKey.import_key(key).as_dict(private=True)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return OKPKey.import_key(key).as_dict(private=True)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return ECKey.import_key(key).as_dict(private=True)


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_pyjwt_tokens(alg, verifying):
    assert verifying(jwt_algorithms=list(ALGORITHMS)).authenticate(bearer_event(mint(alg))).verified


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")  # RFC 9864 names it Ed25519; EdDSA is what we accept
@pytest.mark.parametrize("alg", ALGORITHMS)
def test_joserfc_tokens(alg, verifying):
    from joserfc import jwt as joserfc_jwt
    from joserfc.jwk import import_key

    key = import_key(private_jwk(alg))
    token = joserfc_jwt.encode({"alg": alg, "kid": kid_for(alg)}, claims(), key, algorithms=[alg])
    assert verifying(jwt_algorithms=list(ALGORITHMS)).authenticate(bearer_event(token)).verified


NODE = shutil.which("node")


def test_node_jose_tokens(verifying):
    assert NODE is not None, "node is needed (package.json's devDependencies hold jose)"
    requests = [{"alg": alg, "kid": kid_for(alg), "jwk": private_jwk(alg), "claims": claims()} for alg in ALGORITHMS]
    script = Path(__file__).with_name("mint_with_jose.mjs")
    done = subprocess.run([NODE, str(script)], input=json.dumps({"requests": requests}), capture_output=True,
                          text=True, cwd=REPO, timeout=60, check=True)
    tokens = json.loads(done.stdout)["tokens"]
    proxy = verifying(jwt_algorithms=list(ALGORITHMS))
    for alg, token in zip(ALGORITHMS, tokens):
        assert proxy.authenticate(bearer_event(token)).verified, alg


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_rfc_vectors(vector):
    key = _core._jwk_load(json.dumps(vector["jwk"]))
    now = vector.get("now", 0)
    verdict = _core._jws_check(key, vector["token"], now, vector["claims"])
    assert verdict == ""
    header, payload, signature = vector["token"].split(".")
    flipped = signature[:5] + ("A" if signature[5] != "A" else "B") + signature[6:]
    assert _core._jws_check(key, f"{header}.{payload}.{flipped}", now, vector["claims"]) != ""


def test_rfc_7515_examples_expire():
    for vector in VECTORS["vectors"][:2]:
        key = _core._jwk_load(json.dumps(vector["jwk"]))
        assert _core._jws_check(key, vector["token"], 1300819380 + 59, True) == ""
        assert _core._jws_check(key, vector["token"], 1300819380 + 60, True) == "expired"
