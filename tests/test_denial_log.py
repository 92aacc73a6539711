"""One JSON log line per denial, with its reason code (oauth_proxy.REASONS), method and path, and nothing secret."""
from __future__ import annotations

import logging

import pytest

import oauth_proxy
from conftest import CSRF, KEY, OPAQUE, ORIGIN, PREFIX, cookies, http_event, proxy, rest_event, spa_headers


def with_request_id(event: dict, request_id: str) -> dict:
    event.setdefault("requestContext", {})["requestId"] = request_id
    return event


def test_line_fields_for_rest_and_http_events(denials):
    authorizer = proxy()
    authorizer.authorize(with_request_id(rest_event("DELETE", {"Origin": "https://evil.example"}), "rest-1"))
    authorizer.authorize(with_request_id(http_event("PATCH", {"origin": "https://evil.example"}, []), "http-2"))
    without_id = rest_event("GET", {"Origin": ORIGIN})
    without_id.get("requestContext", {}).pop("requestId", None)
    with pytest.raises(oauth_proxy.Unauthorized):
        authorizer.authorize(without_id)
    common = {"event": "authorizer_denied", "awsRequestId": None}
    assert denials.lines == [
        {**common, "reason": "untrusted_origin", "status": 403, "method": "DELETE", "path": "/orders/1", "apiRequestId": "rest-1"},
        {**common, "reason": "untrusted_origin", "status": 403, "method": "PATCH", "path": "/orders", "apiRequestId": "http-2"},
        {**common, "reason": "at_cookie_missing", "status": 401, "method": "GET", "path": "/orders/1", "apiRequestId": None},
    ]


def test_the_lambda_request_id_is_the_invocation_of_this_thread(denials):
    """handler records the invocation's context per thread; a thread outside any invocation logs none."""
    import threading

    from oauth_proxy.denial_log import invocation

    class Context:
        aws_request_id = "lambda-7"

    authorizer = proxy()
    invocation.context = Context()
    try:
        authorizer.authorize(rest_event("GET", {}))
        other = threading.Thread(target=authorizer.authorize, args=(rest_event("GET", {}),))
        other.start()
        other.join()
    finally:
        invocation.context = None
    authorizer.authorize(rest_event("GET", {}))
    assert [line["awsRequestId"] for line in denials.lines] == ["lambda-7", None, None]


def test_odd_request_ids_are_dropped_or_cut(denials):
    authorizer = proxy()
    authorizer.authorize({"requestContext": {"requestId": 5}})
    authorizer.authorize(with_request_id(rest_event("GET", {}), "r" * 5000))
    assert denials.lines[0]["apiRequestId"] is None
    assert denials.lines[1]["apiRequestId"] == "r" * 256


def test_allowed_requests_log_nothing(denials):
    proxy().authorize(rest_event("GET", spa_headers()))
    assert denials.lines == []


def test_long_paths_are_truncated_and_odd_fields_dropped(denials):
    event = rest_event("GET", {})
    event["path"] = "/" + "p" * 5000
    event["httpMethod"] = "GET"
    proxy().authorize(event)
    event = {"version": "2.0", "requestContext": "odd", "rawPath": 5}
    proxy().authorize(event)
    assert len(denials.lines[0]["path"]) == 256
    assert denials.lines[1]["method"] is None and denials.lines[1]["path"] is None


def test_every_reason_code_of_the_cookie_path(denials):
    authorizer = proxy(required_scopes="admin")
    bad_csrf = f"{PREFIX}-at={oauth_proxy.encrypt_cookie(OPAQUE, KEY)}; {PREFIX}-csrf=bad"
    cases = [
        rest_event("GET", {"Origin": "https://evil.example"}),
        rest_event("GET", {}),
        rest_event("POST", {"Origin": ORIGIN, "Cookie": cookies(csrf=None)}),
        rest_event("POST", {"Origin": ORIGIN, "Cookie": cookies()}),
        rest_event("POST", {"Origin": ORIGIN, "Cookie": cookies(), f"x-{PREFIX}-csrf": "nope"}),
        rest_event("POST", {"Origin": ORIGIN, "Cookie": bad_csrf, f"x-{PREFIX}-csrf": CSRF}),
        rest_event("GET", {"Origin": ORIGIN, "Cookie": "x=1"}),
        rest_event("GET", {"Origin": ORIGIN, "Cookie": f"{PREFIX}-at=junk"}),
        rest_event("GET", spa_headers()),
        {"headers": 5},
    ]
    for event in cases:
        try:
            authorizer.authorize(event)
        except oauth_proxy.Unauthorized:
            pass
    assert denials.reasons == ["untrusted_origin", "missing_origin", "csrf_cookie_missing", "csrf_header_missing",
                               "csrf_mismatch", "csrf_decrypt_failed", "at_cookie_missing", "at_decrypt_failed",
                               "insufficient_scope", "bad_event"]
    assert all(line["status"] in (401, 403) for line in denials.lines)


def test_denials_are_warnings(caplog):
    with caplog.at_level(logging.WARNING, logger="oauth_proxy"):
        proxy().authorize(rest_event("GET", {}))
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
