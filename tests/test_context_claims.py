"""CONTEXT_CLAIMS: JWT claims copied into the allow context when they are a string, a
number or a boolean; through authorize and allow, in every response format."""
from __future__ import annotations

import base64

import pytest

import oauth_proxy
from conftest import CSRF, OPAQUE, ORIGIN, PREFIX, config, cookies, http_event, make_jwt, proxy, rest_event, spa_headers

CLAIMS = {"sub": "dave", "tenant": "acme", "level": 7, "big": 12345678901234567890, "ratio": 0.25, "exp_form": 2e2,
          "admin": True, "guest": False, "nothing": None, "groups": ["a", "b"], "address": {"city": "Oslo"},
          "text": "caf\u00e9 \"x\" \U0001F600"}
JWT = make_jwt(CLAIMS)
EXPECTED = {"tenant": "acme", "level": 7, "big": 12345678901234567890, "ratio": 0.25, "exp_form": 200.0,
            "admin": True, "guest": False, "text": CLAIMS["text"]}
NAMES = "tenant, level,big,ratio,exp_form,admin,guest,nothing,groups,address,text,absent"


def events(jwt: str = JWT) -> dict:
    return {"rest": rest_event("GET", spa_headers(token=jwt)),
            "http": http_event("POST", {"origin": ORIGIN, f"x-{PREFIX}-csrf": CSRF}, cookies(jwt).split("; "))}


@pytest.mark.parametrize("fmt,response_format", [("rest", "simple"), ("http", "simple"), ("http", "iam")])
def test_string_number_and_boolean_claims_are_copied_others_left_out(fmt, response_format):
    authorizer = proxy(context_claims=NAMES, http_api_response_format=response_format)
    event = events()[fmt]
    context = authorizer.authorize(event)["context"]
    assert context == {"token": f"Bearer {JWT}", **EXPECTED}
    assert type(context["level"]) is int and type(context["ratio"]) is float and type(context["exp_form"]) is float
    assert context["admin"] is True and context["guest"] is False
    # the builders give the same context
    assert authorizer.allow(event, authorizer.authenticate(event))["context"] == context


def test_unset_means_only_the_token():
    assert proxy().authorize(events()["rest"])["context"] == {"token": f"Bearer {JWT}"}


def test_an_opaque_token_has_no_claims_to_copy():
    context = proxy(context_claims="tenant").authorize(events(OPAQUE)["rest"])["context"]
    assert context == {"token": f"Bearer {OPAQUE}"}


def test_caller_context_goes_on_top_of_claims():
    authorizer = proxy(context_claims="tenant")
    event = events()["rest"]
    response = authorizer.allow(event, authorizer.authenticate(event), {"tenant": "override", "extra": 1})
    assert response["context"] == {"token": f"Bearer {JWT}", "tenant": "override", "extra": 1}


def test_json_details_are_read_as_json_loads_would():
    # an escaped member name, a repeated member (the last wins), a number too large for a float
    payload = b'{"sub":"x","ten\\u0061nt":"first","tenant":"second","huge":1e999,"neg":-0,"frac":-1.5E-1}'
    jwt = f"eyJhbGciOiJub25lIn0.{base64.urlsafe_b64encode(payload).rstrip(b'=').decode()}.c2ln"
    context = proxy(context_claims="tenant,huge,neg,frac").authorize(events(jwt)["rest"])["context"]
    assert context == {"token": f"Bearer {jwt}", "tenant": "second", "neg": 0, "frac": -0.15}


def test_bearer_tokens_claims_are_copied_too():
    event = rest_event("GET", {"Authorization": f"Bearer {JWT}"})
    context = proxy(allow_token=True, context_claims="tenant").authorize(event)["context"]
    assert context["tenant"] == "acme"


def test_config_forms_and_errors():
    assert config(context_claims=" sub , tenant,,sub").context_claims == ("sub", "tenant")
    assert config(context_claims=["sub"]).context_claims == ("sub",)
    assert config().context_claims == ()
    with pytest.raises(oauth_proxy.ConfigError, match="CONTEXT_CLAIMS.*token"):
        config(context_claims="sub,token")
    with pytest.raises(oauth_proxy.ConfigError, match="CONTEXT_CLAIMS"):
        config(context_claims=[1])


def test_a_number_python_cannot_hold_is_left_out_not_an_error():
    # on the ALLOW_TOKEN path the token is the caller's: an integer past Python's digit limit must not break
    # the answer
    payload = b'{"sub":"x","n":' + b"9" * 5000 + b',"tenant":"acme"}'
    jwt = f"eyJhbGciOiJub25lIn0.{base64.urlsafe_b64encode(payload).rstrip(b'=').decode()}.c2ln"
    authorizer = proxy(allow_token=True, context_claims="n,tenant")
    event = rest_event("GET", {"Authorization": f"Bearer {jwt}"})
    assert authorizer.authorize(event)["context"] == {"token": f"Bearer {jwt}", "tenant": "acme"}
    identity = authorizer.authenticate(event)
    assert identity.claims["n"] == float("inf") and identity.claims["tenant"] == "acme"
    assert authorizer.allow(event, identity)["context"]["tenant"] == "acme"
