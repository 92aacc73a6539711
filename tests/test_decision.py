"""Each rule of the decision, for REST (payload 1.0) and HTTP API (payload 2.0)."""
from __future__ import annotations

import pytest

import oauth_proxy
from conftest import (CSRF, KEY, METHOD_ARN, OLD_KEY, OPAQUE, ORIGIN, PREFIX, cookies, http_event,
                      make_jwt, proxy, rest_event, spa_headers)

WILDCARD = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*"
ROUTE_WILDCARD = "arn:aws:execute-api:eu-west-1:123456789012:abc123/$default/*"
JWT = make_jwt({"sub": "alice", "scope": "openid orders:read orders:write", "exp": 4102444800})


def allow_policy(token: str, principal: str, resource: str = WILDCARD) -> dict:
    return {
        "principalId": principal,
        "policyDocument": {"Version": "2012-10-17",
                           "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": resource}]},
        "context": {"token": f"Bearer {token}"},
    }


def deny_policy(resource: str = WILDCARD) -> dict:
    return {
        "principalId": "anonymous",
        "policyDocument": {"Version": "2012-10-17",
                           "Statement": [{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": resource}]},
    }


def expect_denied(response: dict, denials, reason: str, resource: str = WILDCARD) -> None:
    assert response == deny_policy(resource)
    assert denials.reasons == [reason]


def expect_unauthorized(authorizer, event, denials, reason: str) -> None:
    with pytest.raises(oauth_proxy.Unauthorized) as caught:
        authorizer.authorize(event)
    assert str(caught.value) == "Unauthorized"
    assert denials.reasons == [reason]


# ---- allow ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"])
def test_rest_allow_with_jwt_names_the_subject(method, denials):
    response = proxy().authorize(rest_event(method, spa_headers(method, token=JWT)))
    assert response == allow_policy(JWT, "alice")
    assert denials.reasons == []


def test_rest_allow_with_opaque_token_uses_a_stable_pseudonym():
    first = proxy().authorize(rest_event("GET", spa_headers()))
    second = proxy().authorize(rest_event("GET", spa_headers()))
    principal = first["principalId"]
    assert first == allow_policy(OPAQUE, principal)
    assert second["principalId"] == principal
    assert OPAQUE not in principal and principal.startswith("sha256:")
    other = proxy().authorize(rest_event("GET", spa_headers(token="another-token")))
    assert other["principalId"] != principal


def test_http_api_simple_allow_and_deny():
    authorizer = proxy()
    ok = authorizer.authorize(http_event("POST", {"origin": ORIGIN, f"x-{PREFIX}-csrf": CSRF}, cookies(JWT).split("; ")))
    assert ok == {"isAuthorized": True, "context": {"token": f"Bearer {JWT}"}}
    denied = authorizer.authorize(http_event("POST", {"origin": "https://evil.example"}, cookies(JWT).split("; ")))
    assert denied == {"isAuthorized": False}


def test_http_api_iam_format_uses_the_route_arn():
    authorizer = proxy(http_api_response_format="iam")
    ok = authorizer.authorize(http_event("GET", {"origin": ORIGIN}, cookies(JWT).split("; ")))
    assert ok == allow_policy(JWT, "alice", ROUTE_WILDCARD)
    denied = authorizer.authorize(http_event("GET", {"origin": "https://evil.example"}, cookies(JWT).split("; ")))
    assert denied == deny_policy(ROUTE_WILDCARD)


def test_simple_format_does_not_change_rest_answers():
    response = proxy(http_api_response_format="simple").authorize(rest_event("GET", spa_headers()))
    assert response["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_http_api_reads_cookies_only_from_the_cookie_list(denials):
    headers = {"origin": ORIGIN, "cookie": cookies()}
    expect_unauthorized(proxy(), http_event("GET", headers, None), denials, "at_cookie_missing")


def test_responses_are_fresh_objects():
    authorizer = proxy()
    first = authorizer.authorize(rest_event("GET", spa_headers()))
    first["policyDocument"]["Statement"][0]["Effect"] = "Deny"
    second = authorizer.authorize(rest_event("GET", spa_headers()))
    assert second["policyDocument"]["Statement"][0]["Effect"] == "Allow"


# ---- step 1: ALLOW_TOKEN --------------------------------------------------------------------------------

@pytest.mark.parametrize("header", [f"Bearer {JWT}", f"bearer {JWT}", f"BEARER   {JWT}  "])
def test_allow_token_skips_cookie_checks(header):
    event = rest_event("POST", {"Authorization": header})  # no origin, no CSRF, no cookies
    assert proxy(allow_token=True).authorize(event) == allow_policy(JWT, "alice")


@pytest.mark.parametrize("header", ["Bearer ", "Bearer", "Basic dXNlcjpwYXNz", f"Bearer {JWT} extra", "Bearer a\nb"])
def test_allow_token_needs_a_well_formed_bearer_token(header, denials):
    expect_denied(proxy(allow_token=True).authorize(rest_event("POST", {"Authorization": header})), denials,
                  "missing_origin")


def test_bearer_header_is_ignored_unless_allow_token(denials):
    expect_denied(proxy().authorize(rest_event("GET", {"Authorization": f"Bearer {JWT}"})), denials, "missing_origin")


def test_allow_token_still_checks_scopes(denials):
    event = rest_event("GET", {"authorization": f"Bearer {JWT}"})
    expect_denied(proxy(allow_token=True, required_scopes="admin").authorize(event), denials, "insufficient_scope")


def test_allow_token_with_a_cookie_request_falls_back_to_cookies():
    response = proxy(allow_token=True).authorize(rest_event("GET", spa_headers(token=JWT)))
    assert response == allow_policy(JWT, "alice")


# ---- step 2: origin -------------------------------------------------------------------------------------

def test_missing_origin_is_403(denials):
    headers = spa_headers()
    del headers["Origin"]
    expect_denied(proxy().authorize(rest_event("GET", headers)), denials, "missing_origin")


@pytest.mark.parametrize("origin", ["https://evil.example", "https://www.example.com.evil.example",
                                    "http://www.example.com", "https://www.example.com:8443", "null", "",
                                    "https://www.example.com/"])
def test_untrusted_origin_is_403(origin, denials):
    response = proxy().authorize(rest_event("GET", spa_headers(Origin=origin)))
    expect_denied(response, denials, "untrusted_origin")


def test_origin_matches_ignoring_case_in_any_header_case():
    authorizer = proxy(trusted_web_origins=["https://app.example.com", ORIGIN])
    headers = spa_headers()
    del headers["Origin"]
    headers["oRiGiN"] = ORIGIN.upper()
    assert authorizer.authorize(rest_event("GET", headers))["principalId"].startswith("sha256:")


def test_conflicting_origin_headers_are_untrusted(denials):
    event = rest_event("GET", spa_headers(), {"Origin": [ORIGIN, "https://evil.example"]})
    expect_denied(proxy().authorize(event), denials, "untrusted_origin")


# ---- step 3: CSRF ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "post", "PURGE"])
def test_data_changing_methods_need_the_csrf_cookie(method, denials):
    headers = {"Origin": ORIGIN, "Cookie": cookies(csrf=None), f"x-{PREFIX}-csrf": CSRF}
    expect_denied(proxy().authorize(rest_event(method, headers)), denials, "csrf_cookie_missing")


def test_csrf_header_missing(denials):
    headers = spa_headers("POST")
    del headers[f"x-{PREFIX}-csrf"]
    expect_denied(proxy().authorize(rest_event("POST", headers)), denials, "csrf_header_missing")


@pytest.mark.parametrize("value", [CSRF[:-1], CSRF + "x", CSRF.upper(), " " + CSRF, "x"])
def test_csrf_mismatch(value, denials):
    response = proxy().authorize(rest_event("POST", spa_headers("POST", **{f"x-{PREFIX}-csrf": value})))
    expect_denied(response, denials, "csrf_mismatch")


def test_csrf_cookie_that_does_not_decrypt(denials):
    headers = spa_headers("POST")
    headers["Cookie"] = f"{PREFIX}-at={oauth_proxy.encrypt_cookie(OPAQUE, KEY)}; {PREFIX}-csrf=AAAA{CSRF}"
    expect_denied(proxy().authorize(rest_event("POST", headers)), denials, "csrf_decrypt_failed")


def test_csrf_header_name_is_case_insensitive():
    headers = spa_headers("POST")
    headers[f"X-{PREFIX.upper()}-CSRF"] = headers.pop(f"x-{PREFIX}-csrf")
    assert "context" in proxy().authorize(rest_event("POST", headers))


def test_get_needs_no_csrf():
    assert "context" in proxy().authorize(rest_event("GET", {"Origin": ORIGIN, "Cookie": cookies(csrf=None)}))


def test_csrf_is_checked_before_the_access_token(denials):
    headers = {"Origin": ORIGIN, "Cookie": cookies(csrf=None).replace(f"{PREFIX}-at", "other")}
    expect_denied(proxy().authorize(rest_event("DELETE", headers)), denials, "csrf_cookie_missing")


# ---- step 4: access-token cookie ------------------------------------------------------------------------

def test_missing_access_token_cookie_is_401(denials):
    headers = {"Origin": ORIGIN, "Cookie": "unrelated=1"}
    expect_unauthorized(proxy(), rest_event("GET", headers), denials, "at_cookie_missing")


def test_undecryptable_access_token_cookie_is_401(denials):
    headers = {"Origin": ORIGIN, "Cookie": f"{PREFIX}-at={oauth_proxy.encrypt_cookie(OPAQUE, OLD_KEY)}"}
    expect_unauthorized(proxy(), rest_event("GET", headers), denials, "at_decrypt_failed")


def test_previous_keys_still_decrypt_during_rotation():
    headers = {"Origin": ORIGIN, "Cookie": cookies(JWT, key=OLD_KEY), f"x-{PREFIX}-csrf": CSRF}
    authorizer = proxy(previous_encryption_keys=[OLD_KEY])
    assert authorizer.authorize(rest_event("POST", headers)) == allow_policy(JWT, "alice")


def test_cookie_names_are_case_sensitive(denials):
    headers = {"Origin": ORIGIN, "Cookie": cookies().replace(f"{PREFIX}-at", f"{PREFIX.upper()}-AT")}
    expect_unauthorized(proxy(), rest_event("GET", headers), denials, "at_cookie_missing")


def test_first_decryptable_occurrence_wins():
    stale = f"{PREFIX}-at={oauth_proxy.encrypt_cookie('stale', OLD_KEY)}"
    fresh = f"{PREFIX}-at={oauth_proxy.encrypt_cookie(JWT, KEY)}"
    second = f"{PREFIX}-at={oauth_proxy.encrypt_cookie('second', KEY)}"
    headers = {"Origin": ORIGIN, "Cookie": f"{stale}; junk; {fresh}; {second}"}
    assert proxy().authorize(rest_event("GET", headers)) == allow_policy(JWT, "alice")


def test_duplicate_csrf_cookies_try_each_in_order():
    bad = f"{PREFIX}-csrf=garbage"
    good = f"{PREFIX}-csrf={oauth_proxy.encrypt_cookie(CSRF, KEY)}"
    headers = {"Origin": ORIGIN, "Cookie": f"{bad}; {PREFIX}-at={oauth_proxy.encrypt_cookie(JWT, KEY)}; {good}",
               f"x-{PREFIX}-csrf": CSRF}
    assert "context" in proxy().authorize(rest_event("PUT", headers))


def test_several_cookie_headers_in_multi_value_headers_are_all_read():
    at, csrf = cookies(JWT).split("; ")
    event = rest_event("POST", {"Origin": ORIGIN, "Cookie": csrf, f"x-{PREFIX}-csrf": CSRF},
                       {"Cookie": ["theme=dark", at, csrf]})
    assert proxy().authorize(event) == allow_policy(JWT, "alice")


def test_headers_may_be_null_when_multi_value_headers_carry_them():
    at, csrf = cookies(JWT).split("; ")
    event = rest_event("GET", None, {"origin": [ORIGIN], "cookie": [at]})
    assert proxy().authorize(event) == allow_policy(JWT, "alice")


def test_cookie_pairs_tolerate_blanks_and_empty_pieces():
    at = oauth_proxy.encrypt_cookie(JWT, KEY)
    headers = {"Origin": ORIGIN, "Cookie": f";; a=1 ;\t{PREFIX}-at = {at} ;novalue; b="}
    assert proxy().authorize(rest_event("GET", headers)) == allow_policy(JWT, "alice")


# ---- step 6: scopes -------------------------------------------------------------------------------------

@pytest.mark.parametrize("required", ["orders:read", "openid orders:write", ["orders:read", "openid"]])
def test_required_scopes_present(required):
    assert "context" in proxy(required_scopes=required).authorize(rest_event("GET", spa_headers(token=JWT)))


@pytest.mark.parametrize("required", ["admin", "orders", "orders:read admin", "openid orders:rea"])
def test_required_scopes_missing_is_403(required, denials):
    response = proxy(required_scopes=required).authorize(rest_event("GET", spa_headers(token=JWT)))
    expect_denied(response, denials, "insufficient_scope")


@pytest.mark.parametrize("token", [OPAQUE, make_jwt({"sub": "bob"}), make_jwt({"sub": "bob", "scope": ["orders:read"]})])
def test_tokens_that_cannot_show_their_scopes_fail(token, denials):
    response = proxy(required_scopes="orders:read").authorize(rest_event("GET", spa_headers(token=token)))
    expect_denied(response, denials, "insufficient_scope")


# ---- resources and principals ---------------------------------------------------------------------------

@pytest.mark.parametrize("arn, resource", [
    (METHOD_ARN, WILDCARD),
    ("arn:aws:execute-api:us-east-1:123456789012:api/stage/GET/", "arn:aws:execute-api:us-east-1:123456789012:api/stage/*"),
    ("arn:aws-cn:execute-api:cn-north-1:123456789012:api/v1/POST/a/b/c", "arn:aws-cn:execute-api:cn-north-1:123456789012:api/v1/*"),
])
def test_resource_is_the_api_wide_wildcard(arn, resource):
    response = proxy().authorize(rest_event("GET", spa_headers(token=JWT), arn=arn))
    assert response["policyDocument"]["Statement"][0]["Resource"] == resource


@pytest.mark.parametrize("principal_claims, expected", [
    ({"sub": "ünïcode-üser"}, "ünïcode-üser"),
    ({"sub": "a\u0000b"}, "a\u0000b"),
    ({"sub": ""}, None),
    ({"sub": 42}, None),
    ({"sub": "first", "sub2": "x"}, "first"),
])
def test_principal_from_sub(principal_claims, expected):
    token = make_jwt(principal_claims)
    principal = proxy().authorize(rest_event("GET", spa_headers(token=token)))["principalId"]
    if expected is None:
        assert principal.startswith("sha256:")
    else:
        assert principal == expected


def test_deny_responses_never_carry_the_token():
    authorizer = proxy(required_scopes="admin")
    response = authorizer.authorize(rest_event("GET", spa_headers(token=JWT)))
    assert "context" not in response and JWT not in repr(response)
