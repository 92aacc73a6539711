"""Verified JWTs (JWKS_URL), side by side in one run, for each algorithm:

  first sight   verified bearer authorize() of a token never seen before, against
                (bare OpenSSL verification of that token + today's unverified authorize());
                target: within 1.3x. And its ratio to PyJWT (with cryptography) doing the same checks.
  repeated      verified authorize() of one token again and again (the verified-token cache), against PyJWT
                verifying that token each time; target: at least 10x faster.

Per-call times are the median of several rounds over distinct tokens (first sight) or one token (repeated).
Run: .venv/bin/python benchmarks/jwt_verify.py [--tokens N] [--rounds R] [--algorithms RS256,ES256]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import jwt as pyjwt  # noqa: E402  (PyJWT, a test-only dependency)

import oauth_proxy  # noqa: E402
from oauth_proxy import _core  # noqa: E402
from oauth_proxy.testing import SpaSession  # noqa: E402
from verified_jwt.jwks_support import (ALGORITHMS, AUDIENCE, ISSUER, JwksEndpoint, key_kind, kid_for,  # noqa: E402
                                       mint, private_key, public_jwk)

KEY = "7b99279ab87533d3c238db874a842a91ee26a76027f3c03c317504963d2c9926"
ORIGIN = "https://www.example.com"


def per_call_ns(fn, items, rounds: int) -> float:
    """Median over rounds of the mean time of fn(item) over items."""
    results = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        for item in items:
            fn(item)
        results.append((time.perf_counter_ns() - start) / len(items))
    return statistics.median(results)


def measure(alg: str, endpoint: JwksEndpoint, count: int, rounds: int) -> dict:
    session = SpaSession(KEY, "example", ORIGIN)
    base = dict(trusted_web_origins=[ORIGIN], cookie_name_prefix="example", encryption_key=KEY, allow_token=True)
    verified = oauth_proxy.OAuthProxy(oauth_proxy.Config(**base, jwks_url=endpoint.url, jwt_issuer=ISSUER,
                                                         jwt_audience=[AUDIENCE], jwt_algorithms=[alg],
                                                         introspection_cache_size=max(1024, count * rounds * 2)))
    plain = oauth_proxy.OAuthProxy(oauth_proxy.Config(**base))
    public = private_key(key_kind(alg)).public_key()
    bare_key = _core._jwk_load(json.dumps(public_jwk(private_key(key_kind(alg)), kid_for(alg))))

    def event(token: str) -> dict:
        return session.rest_event("GET", "/orders", origin=None, at_cookie=None, csrf_cookie=None, bearer=token)

    # Distinct tokens for each round, so that first sight is never answered by the cache.
    batches = [[event(mint(alg, jti=f"{r}-{i}")) for i in range(count)] for r in range(rounds)]
    verified.authorize(event(mint(alg, jti="warm")))  # fetches the key set once
    tokens = [[e["headers"]["Authorization"][7:] for e in batch] for batch in batches]

    def pyjwt_decode(token: str) -> None:
        pyjwt.decode(token, public, algorithms=[alg], issuer=ISSUER, audience=AUDIENCE, leeway=60,
                     options={"require": ["exp"]})

    now = int(time.time())
    # The four measurements take turns within each round, so that a change in the machine's load (shared
    # cores) falls on all of them alike; each is the median over the rounds.
    samples: dict = {"first": [], "bare": [], "unverified": [], "pyjwt": []}
    for batch, batch_tokens in zip(batches, tokens):
        samples["first"].append(per_call_ns(verified.authorize, batch, 1))
        samples["bare"].append(per_call_ns(lambda t: _core._jws_check(bare_key, t, now, True), batch_tokens, 1))
        samples["unverified"].append(per_call_ns(plain.authorize, batch, 1))
        samples["pyjwt"].append(per_call_ns(pyjwt_decode, batch_tokens, 1))
    first_sight, bare, unverified, with_pyjwt = (statistics.median(samples[k])
                                                 for k in ("first", "bare", "unverified", "pyjwt"))
    one = batches[0][0]
    one_token = tokens[0][0]
    verified.authorize(one)
    repeated = per_call_ns(verified.authorize, [one] * count, rounds)
    pyjwt_repeated = per_call_ns(pyjwt_decode, [one_token] * count, rounds)
    return {
        "alg": alg,
        "first_sight_us": first_sight / 1000,
        "bare_plus_unverified_us": (bare + unverified) / 1000,
        "ratio_vs_bare": first_sight / (bare + unverified),
        "pyjwt_us": with_pyjwt / 1000,
        "ratio_vs_pyjwt": first_sight / with_pyjwt,
        "repeated_us": repeated / 1000,
        "pyjwt_repeated_us": pyjwt_repeated / 1000,
        "repeated_speedup_vs_pyjwt": pyjwt_repeated / repeated,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=300, help="tokens per round (default 300)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the median is reported (default 5)")
    parser.add_argument("--algorithms", default=",".join(ALGORITHMS))
    args = parser.parse_args()
    rows = []
    with JwksEndpoint() as endpoint:
        for alg in args.algorithms.split(","):
            rows.append(measure(alg.strip(), endpoint, args.tokens, args.rounds))
    print(f"{'alg':6} {'first sight':>12} {'bare+unver.':>12} {'ratio':>6} {'(<=1.3)':>7} {'PyJWT':>9} "
          f"{'vs PyJWT':>8}   {'repeated':>9} {'PyJWT rep.':>10} {'speed-up':>8} {'(>=10)':>6}")
    for r in rows:
        print(f"{r['alg']:6} {r['first_sight_us']:10.1f}us {r['bare_plus_unverified_us']:10.1f}us "
              f"{r['ratio_vs_bare']:6.2f} {'ok' if r['ratio_vs_bare'] <= 1.3 else 'MISS':>7} {r['pyjwt_us']:7.1f}us "
              f"{r['ratio_vs_pyjwt']:8.2f}   {r['repeated_us']:7.2f}us {r['pyjwt_repeated_us']:8.1f}us "
              f"{r['repeated_speedup_vs_pyjwt']:7.1f}x {'ok' if r['repeated_speedup_vs_pyjwt'] >= 10 else 'MISS':>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
