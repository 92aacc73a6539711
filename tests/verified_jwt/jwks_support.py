"""Keys, tokens and a loopback JWKS endpoint for the verified-JWT tests. Tokens are minted by PyJWT (with
cryptography), an implementation independent of the C verifier under test."""
from __future__ import annotations

import functools
import json
import time
from typing import Any, Optional

import jwt as pyjwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from verified_jwt.jwks_endpoint import StaticJwksEndpoint

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
DEFAULT_ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")
ISSUER = "https://login.example.com/oauth/v2/oauth-anonymous"
AUDIENCE = "api.example.com"
FAR = 4102444800  # 2100-01-01


@functools.lru_cache(maxsize=None)
def private_key(kind: str) -> Any:
    """One key per kind, made once per test session: RSA (2048), P-256, P-384, P-521, Ed25519."""
    if kind == "RSA":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "Ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    curve = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}[kind]
    return ec.generate_private_key(curve)


def key_kind(alg: str) -> str:
    return {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "EdDSA": "Ed25519"}.get(alg, "RSA")


def public_jwk(key: Any, kid: Optional[str], **extra: Any) -> dict:
    """The public JWK of a private key (PyJWT's own JWK export), with our kid and members."""
    from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        jwk = json.loads(RSAAlgorithm.to_jwk(public))
    elif isinstance(public, ed25519.Ed25519PublicKey):
        jwk = json.loads(OKPAlgorithm.to_jwk(public))
    else:
        jwk = json.loads(ECAlgorithm.to_jwk(public))
    jwk.pop("alg", None)
    if kid is not None:
        jwk["kid"] = kid
    jwk.update(extra)
    return jwk


def kid_for(alg: str) -> str:
    return f"{key_kind(alg).lower()}-1"


def jwks(*kinds: str, kid_suffix: str = "-1") -> dict:
    """A key set holding the public key of each kind (kid '<kind>-1')."""
    return {"keys": [public_jwk(private_key(k), f"{k.lower()}{kid_suffix}") for k in kinds]}


ALL_KINDS = ("RSA", "P-256", "P-384", "P-521", "Ed25519")


def claims(**overrides: Any) -> dict:
    base = {"sub": "alice", "scope": "openid orders:read", "iss": ISSUER, "aud": AUDIENCE,
            "exp": int(time.time()) + 600, "iat": int(time.time())}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def mint(alg: str = "RS256", kid: Optional[str] = "default", key: Any = None, headers: Optional[dict] = None,
         **claim_overrides: Any) -> str:
    """A token signed by PyJWT with the key of alg's kind (kid 'default': that key's kid in jwks())."""
    if kid == "default":
        kid = kid_for(alg)
    header = dict(headers or {})
    if kid is not None:
        header["kid"] = kid
    signing_key = key if key is not None else private_key(key_kind(alg))
    return pyjwt.encode(claims(**claim_overrides), signing_key, algorithm=alg, headers=header)


class JwksEndpoint(StaticJwksEndpoint):
    """StaticJwksEndpoint serving, unless told otherwise, a key of every kind."""

    def __init__(self, document: Optional[dict] = None) -> None:
        super().__init__(document if document is not None else jwks(*ALL_KINDS))
