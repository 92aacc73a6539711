"""Malformed, oversized and hostile events: a 403 with reason bad_event (or an ordinary denial), never a
crash and never an unexpected exception type."""
from __future__ import annotations

import pytest

import oauth_proxy
from conftest import CSRF, KEY, METHOD_ARN, OPAQUE, ORIGIN, PREFIX, cookies, http_event, proxy, rest_event, spa_headers

ANY = {"principalId": "anonymous", "policyDocument": {"Version": "2012-10-17", "Statement": [
    {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": "*"}]}}


def outcome(authorizer, event):
    try:
        return authorizer.authorize(event)
    except oauth_proxy.Unauthorized:
        return 401


@pytest.mark.parametrize("event", [None, 42, "event", [], b"bytes", {}])
def test_events_that_are_not_events(event, denials):
    assert proxy().authorize(event) == ANY
    assert denials.reasons == ["bad_event"]


def test_an_event_with_only_an_arn_is_denied_on_that_api(denials):
    response = proxy().authorize({"methodArn": METHOD_ARN})
    assert response["policyDocument"]["Statement"][0] == {
        "Action": "execute-api:Invoke", "Effect": "Deny",
        "Resource": "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*"}
    assert denials.reasons == ["bad_event"]


@pytest.mark.parametrize("arn", [None, 7, "", "arn", "arn:aws:execute-api:r:1:api", "arn:aws:execute-api:r:1:api/stage",
                                 "arn:aws:s3:r:1:api/stage/GET/", "arn:aws:execute-api::1:api/stage/GET/",
                                 "xrn:aws:execute-api:r:1:api/stage/GET/", "arn:aws:execute-api:r:1:api//GET/",
                                 "arn:aws:execute-api:r:1:a*pi/stage/GET/", "arn:aws:execute-api:r:1:/stage/GET/"])
def test_missing_or_malformed_arn_denies_with_a_wildcard_resource(arn, denials):
    event = rest_event("GET", spa_headers())
    event["methodArn"] = arn
    assert proxy().authorize(event) == ANY
    assert denials.reasons == ["bad_event"]


@pytest.mark.parametrize("mutate", [
    lambda e: e.pop("httpMethod"),
    lambda e: e.update(httpMethod=None),
    lambda e: e.update(httpMethod=""),
    lambda e: e.update(httpMethod=["GET"]),
    lambda e: e.update(headers="Origin: x"),
    lambda e: e.update(headers=["Origin", ORIGIN]),
    lambda e: e.update(headers={"Origin": 5}),
    lambda e: e.update(headers={"Origin": [ORIGIN]}),
    lambda e: e.update(headers={5: ORIGIN}),
    lambda e: e.update(headers={"X-Other": b"bytes"}),
    lambda e: e.update(multiValueHeaders={"Cookie": "a=b"}),
    lambda e: e.update(multiValueHeaders={"Cookie": [5]}),
    lambda e: e.update(multiValueHeaders=[1, 2]),
    lambda e: e.update(headers={"Cookie": "a=\ud800"}),
    lambda e: e.update(headers={"Origin": "\udcff"}),
])
def test_rest_events_with_wrongly_typed_parts(mutate, denials):
    event = rest_event("GET", spa_headers())
    mutate(event)
    response = proxy().authorize(event)
    assert response["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert denials.reasons == ["bad_event"]


@pytest.mark.parametrize("mutate", [
    lambda e: e.pop("routeArn"),
    lambda e: e.pop("requestContext"),
    lambda e: e.update(requestContext={"http": None}),
    lambda e: e.update(requestContext={"http": {"method": 1}}),
    lambda e: e.update(requestContext="GET"),
    lambda e: e.update(cookies="a=b"),
    lambda e: e.update(cookies=[None]),
    lambda e: e.update(headers={"origin": None, "x": 1}),
])
def test_http_api_events_with_wrongly_typed_parts(mutate, denials):
    event = http_event("GET", {"origin": ORIGIN}, cookies().split("; "))
    mutate(event)
    assert proxy().authorize(event) == {"isAuthorized": False}
    assert denials.reasons == ["bad_event"]


def test_null_header_values_count_as_absent(denials):
    event = rest_event("GET", {"Origin": None, "Cookie": cookies()})
    assert proxy().authorize(event)["principalId"] == "anonymous"
    assert denials.reasons == ["missing_origin"]


def test_a_70_kib_cookie_header_is_refused_on_any_method(denials):
    headers = {"Origin": ORIGIN, "Cookie": cookies() + "; filler=" + "x" * (70 * 1024)}
    for method in ("GET", "POST"):
        assert proxy().authorize(rest_event(method, headers))["principalId"] == "anonymous"
    assert denials.reasons == ["bad_event", "bad_event"]


def test_cookie_limit_counts_all_cookie_headers_together(denials):
    chunk = "filler=" + "x" * (20 * 1024)
    event = rest_event("GET", {"Origin": ORIGIN}, {"Cookie": [cookies(), chunk, chunk, chunk, chunk]})
    proxy().authorize(event)
    assert denials.reasons == ["bad_event"]


def test_just_under_the_cookie_limit_is_fine():
    base = cookies(csrf=None) + "; filler="
    header = base + "x" * (64 * 1024 - len(base))
    assert len(header) == 64 * 1024
    assert "context" in proxy().authorize(rest_event("GET", {"Origin": ORIGIN, "Cookie": header}))


def test_an_oversized_own_cookie_is_refused_even_when_another_would_do(denials):
    huge = f"{PREFIX}-csrf=" + "A" * (16 * 1024 + 1)
    event = rest_event("GET", {"Origin": ORIGIN, "Cookie": f"{cookies()}; {huge}"})
    assert proxy().authorize(event)["principalId"] == "anonymous"
    assert denials.reasons == ["bad_event"]


def test_an_oversized_unrelated_cookie_is_not_our_business():
    event = rest_event("GET", {"Origin": ORIGIN, "Cookie": f"{cookies()}; big={'A' * 40000}"})
    assert "context" in proxy().authorize(event)


def test_thousands_of_cookies(denials):
    many = "; ".join(f"c{i}=v{i}" for i in range(5000))
    assert "context" in proxy().authorize(rest_event("GET", {"Origin": ORIGIN, "Cookie": f"{many}; {cookies()}"}))
    junk = "; ".join(f"{PREFIX}-at=AAAA{i}" for i in range(3000))
    with pytest.raises(oauth_proxy.Unauthorized):
        proxy().authorize(rest_event("GET", {"Origin": ORIGIN, "Cookie": junk}))
    assert denials.reasons == ["at_decrypt_failed"]


def test_thousands_of_headers_and_cookie_headers():
    headers = {f"x-h{i}": "v" for i in range(5000)}
    headers.update(spa_headers())
    assert "context" in proxy().authorize(rest_event("GET", headers, {"Cookie": ["a=b"] * 3000 + [cookies()]}))


@pytest.mark.parametrize("value", ["AAAA\x00BBBB", "ünïcödé", "=" * 50, "A" * 16384, "\x00", "\r\n", "%41%41"])
def test_junk_access_token_cookies_are_401(value, denials):
    with pytest.raises(oauth_proxy.Unauthorized):
        proxy().authorize(rest_event("GET", {"Origin": ORIGIN, "Cookie": f"{PREFIX}-at={value}"}))
    assert denials.reasons == ["at_decrypt_failed"]


@pytest.mark.parametrize("header", ["\x00", "é", "x-example-csrf\x00", "\ud800"])
def test_odd_header_names_are_ignored(header):
    headers = spa_headers()
    headers[header] = "value"
    assert "context" in proxy().authorize(rest_event("GET", headers))


def test_nul_and_non_ascii_in_csrf_header(denials):
    for value in (CSRF + "\x00", "é" + CSRF[1:], "\x00" * len(CSRF)):
        response = proxy().authorize(rest_event("POST", spa_headers("POST", **{f"x-{PREFIX}-csrf": value})))
        assert response["principalId"] == "anonymous"
    assert denials.reasons == ["csrf_mismatch"] * 3


def test_event_dict_subclasses_and_extra_fields_are_fine():
    class EventDict(dict):
        pass

    event = EventDict(rest_event("GET", spa_headers()))
    event["unexpected"] = {"deep": [1, 2, 3]}
    assert "context" in proxy().authorize(event)


def test_an_unconfigured_authorizer_raises_instead_of_crashing():
    bare = oauth_proxy.OAuthProxy.__new__(oauth_proxy.OAuthProxy)
    with pytest.raises(RuntimeError):
        bare.authorize(rest_event("GET", spa_headers()))


def test_authorizer_cannot_be_reconfigured():
    authorizer = proxy()
    with pytest.raises(TypeError):
        oauth_proxy._core.Authorizer.__init__(authorizer, [ORIGIN], PREFIX, [KEY], False, [], True, print)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_failing_log_handler_does_not_change_the_outcome(denials):
    import logging

    class Broken(logging.Handler):
        def emit(self, record):
            raise RuntimeError("log sink down")

        def handleError(self, record):
            raise RuntimeError("log sink down")

    broken = Broken()
    logging.getLogger("oauth_proxy").addHandler(broken)
    try:
        response = proxy().authorize(rest_event("GET", {"Cookie": cookies()}))
    finally:
        logging.getLogger("oauth_proxy").removeHandler(broken)
    assert response["principalId"] == "anonymous"


def test_the_token_is_never_in_a_denial_log_line(denials):
    authorizer = proxy(required_scopes="admin")
    cookie_header = cookies(OPAQUE)
    authorizer.authorize(rest_event("GET", {"Origin": ORIGIN, "Cookie": cookie_header}))
    authorizer.authorize(rest_event("POST", {"Origin": ORIGIN, "Cookie": cookie_header, f"x-{PREFIX}-csrf": "bad"}))
    text = "\n".join(denials.raw)
    assert denials.reasons == ["insufficient_scope", "csrf_mismatch"]
    for secret in (OPAQUE, CSRF, KEY, cookie_header.split("=", 1)[1][:20]):
        assert secret not in text


def test_an_event_that_mutates_itself_during_lookup_cannot_pull_values_from_under_us(denials):
    """A str-subclass key whose __eq__ deletes other items runs during a lookup: what was already looked up
    must stay alive (a use-after-free before; the sanitizer run of this suite shows it)."""
    event: dict = {}
    armed = [False]

    class Mutating(str):
        def __hash__(self):
            return hash("httpMethod")

        def __eq__(self, other):
            if armed[0] and other == "httpMethod" and "methodArn" in event:
                del event["methodArn"]
                del event["headers"]
            return False

        __ne__ = str.__ne__

    # Built at run time so that they are not interned constants kept alive by the code object.
    event["methodArn"] = "arn:aws:execute-api:eu-west-1:" + str(123456789012) + ":abc123/prod/GET/x"
    event["headers"] = {f"h{i}": "v" for i in range(50)}
    event["headers"]["origin"] = "https://www.example" + ".com"
    event[Mutating("zz")] = 1
    event["httpMethod"] = "GET"
    armed[0] = True
    with pytest.raises(oauth_proxy.Unauthorized):
        proxy().authorize(event)
    assert "methodArn" not in event  # the mutation did happen
    assert denials.reasons == ["at_cookie_missing"]


def test_reentering_init_from_the_callers_sequence_is_refused():
    authorizer = oauth_proxy._core.Authorizer.__new__(oauth_proxy._core.Authorizer)
    outcome = []

    def reenter():
        try:
            authorizer.__init__([ORIGIN], PREFIX, [KEY], False, [], False, print)
        except TypeError as error:
            outcome.append(error)

    class Keys:
        def __len__(self):
            return 3

        def __getitem__(self, index):
            if index >= 3:
                raise IndexError
            if index == 1 and not outcome:
                reenter()
            return KEY

    authorizer.__init__([ORIGIN], PREFIX, Keys(), False, [], False, print)
    assert len(outcome) == 1 and "configured once" in str(outcome[0])
    headers = {"Origin": ORIGIN, "Cookie": cookies(csrf=None)}
    response = authorizer.authorize(rest_event("GET", headers))  # the outer call finished intact
    assert response["policyDocument"]["Statement"][0]["Effect"] == "Allow" and "context" in response


@pytest.mark.parametrize("kwargs", [{"timeout_ms": 0}, {"timeout_ms": 2**62}, {"cache_ttl": -1},
                                    {"cache_ttl": 10**9}])
def test_phantom_bounds_are_checked_in_c_too(kwargs):
    values = dict(url="http://127.0.0.1:9/introspect", client_id="id", client_secret="secret", timeout_ms=1000)
    values.update(kwargs)
    with pytest.raises(ValueError):
        proxy()._enable_phantom(**values)
