"""The benchmark's pure-Python reference must answer exactly like ours, or the speed comparison of benchmarks/run.py
compares different work. Same events as benchmarks/run.py, plus the 401 and 403 shapes for payloads 1.0 and
2.0. No timing here, ever."""
import copy
import os
import sys

import pytest

import oauth_proxy

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")
sys.path.insert(0, BENCHMARKS)
import reference_authorizer  # noqa: E402
import run as bench  # noqa: E402

sys.path.remove(BENCHMARKS)

EVENTS = bench.events()


def make_pair(**extra):
    ours = oauth_proxy.OAuthProxy(oauth_proxy.Config(trusted_web_origins=[bench.ORIGIN],
                                                     cookie_name_prefix=bench.PREFIX,
                                                     encryption_key=bench.KEY, **extra))
    reference = reference_authorizer.ReferenceAuthorizer([bench.ORIGIN], bench.PREFIX, bench.KEY, **extra)
    return ours, reference


def outcome(authorizer, event):
    """The response, or the name and message of what was raised."""
    try:
        return authorizer.authorize(copy.deepcopy(event))
    except Exception as exc:
        return (type(exc).__name__, str(exc))


def variants():
    """Every benchmark event in payload 1.0 and 2.0, and the denials built from them."""
    out = {}
    for case, event in EVENTS.items():
        method, kind = case.split()
        token = bench.OPAQUE if kind == "opaque" else bench.JWT
        for version in ("1.0", "2.0"):
            ev = bench.make_event(method, token, version=version)
            out[f"{case} {version} allow"] = ev
            headers = ev["headers"]
            origin_key = "Origin" if version == "1.0" else "origin"

            bad = copy.deepcopy(ev)
            bad["headers"][origin_key] = "https://evil.example.com"
            if version == "1.0":
                bad["multiValueHeaders"][origin_key] = ["https://evil.example.com"]
            out[f"{case} {version} 403 untrusted origin"] = bad

            # 401: every cookie but the access token's (a POST keeps its CSRF cookie, else it is a 403)
            bad = copy.deepcopy(ev)
            if version == "1.0":
                kept = [c for c in bad["headers"]["Cookie"].split("; ") if not c.startswith(f"{bench.PREFIX}-at=")]
                bad["headers"]["Cookie"] = "; ".join(["theme=dark"] + kept)
                bad["multiValueHeaders"]["Cookie"] = [bad["headers"]["Cookie"]]
            else:
                bad["cookies"] = ["theme=dark"] + [c for c in bad["cookies"] if not c.startswith(f"{bench.PREFIX}-at=")]
            out[f"{case} {version} 401 no at cookie"] = bad

            bad = copy.deepcopy(ev)
            bad["methodArn" if version == "1.0" else "routeArn"] = "not-an-arn"
            out[f"{case} {version} 403 bad arn"] = bad

            if method == "POST":
                header = f"x-{bench.PREFIX}-csrf"
                bad = copy.deepcopy(ev)
                bad["headers"][header] = "x" * len(headers[header])
                if version == "1.0":
                    bad["multiValueHeaders"][header] = [bad["headers"][header]]
                out[f"{case} {version} 403 csrf mismatch"] = bad
    return out


VARIANTS = variants()
# HTTP_API_RESPONSE_FORMAT only changes payload 2.0 answers.
PARAMS = [(name, fmt) for name in sorted(VARIANTS) for fmt in (("simple", "iam") if " 2.0 " in name else ("simple",))]


@pytest.mark.parametrize("name, response_format", PARAMS)
def test_reference_answers_like_ours(name, response_format):
    ours, reference = make_pair(http_api_response_format=response_format)
    event = VARIANTS[name]
    expected = outcome(ours, event)
    assert outcome(reference, event) == expected
    if name.endswith("allow"):
        assert isinstance(expected, dict) and expected.get("isAuthorized", True) is True
    elif "403" in name:
        assert isinstance(expected, dict) and "token" not in str(expected)
    else:
        assert "401" in name and expected == ("Unauthorized", "Unauthorized")


@pytest.mark.parametrize("case", sorted(EVENTS))
def test_required_scopes_answer_alike(case):
    ours, reference = make_pair(required_scopes=["orders"])
    assert outcome(reference, EVENTS[case]) == outcome(ours, EVENTS[case])
    ours, reference = make_pair(required_scopes=["orders", "admin"])
    assert outcome(reference, EVENTS[case]) == outcome(ours, EVENTS[case])


def test_benchmark_events_are_allowed():
    ours, _ = make_pair()
    for event in EVENTS.values():
        assert ours.authorize(event)["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_reference_reads_the_interop_vectors(vectors):
    for vector in vectors["valid"]:
        key = vectors["keys"][vector["key"]]
        reference = reference_authorizer.ReferenceAuthorizer([bench.ORIGIN], bench.PREFIX, key)
        assert reference.decrypt(vector["cookie"]) == vector["plaintext"]
        assert oauth_proxy.decrypt_cookie(vector["cookie"], key) == vector["plaintext"]
    for vector in vectors["invalid"]:
        reference = reference_authorizer.ReferenceAuthorizer([bench.ORIGIN], bench.PREFIX,
                                                             vectors["keys"][vector["key"]])
        assert reference.decrypt(vector["cookie"]) is None
