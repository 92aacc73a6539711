"""oauth_proxy.REASONS, the one catalogue of reason codes and their statuses: read-only, the same set that the
outcomes of the authorizer produce (tests/outcomes.py runs one request per outcome), and the same set that the
documentation lists."""
from __future__ import annotations

import json
import logging
import re
import types

import pytest

import oauth_proxy
from conftest import REPO, ORIGIN, proxy, rest_event

# Where the documentation lists the reason codes: the page, and the header row of its table (one row per code:
# `code` | status | when). One place, so moving the documentation moves only this line.
REASONS_DOC = (REPO / "docs" / "outcomes.md", "| reason | status | when |")

STATUSES = {401, 403, 500}


def test_reasons_is_a_read_only_mapping_of_code_to_status():
    reasons = oauth_proxy.REASONS
    assert isinstance(reasons, types.MappingProxyType)
    assert "REASONS" in oauth_proxy.__all__
    assert reasons and all(isinstance(code, str) and re.fullmatch(r"[a-z][a-z0-9_]*", code) for code in reasons)
    assert set(reasons.values()) <= STATUSES
    with pytest.raises(TypeError):
        reasons["invented"] = 403  # type: ignore[index]
    with pytest.raises(AttributeError):
        reasons.clear()  # type: ignore[attr-defined]
    assert "invented" not in oauth_proxy.REASONS


def test_the_statuses_are_what_api_gateway_answers():
    assert oauth_proxy.REASONS == {
        "untrusted_origin": 403, "missing_origin": 403, "csrf_cookie_missing": 403, "csrf_header_missing": 403,
        "csrf_mismatch": 403, "csrf_decrypt_failed": 403, "insufficient_scope": 403, "bad_event": 403,
        "at_cookie_missing": 401, "at_decrypt_failed": 401, "token_inactive": 401,
        "introspection_failed": 500,
    }


def test_exceptions_carry_the_catalogue_status():
    assert oauth_proxy.IntrospectionError.status == oauth_proxy.REASONS[oauth_proxy.IntrospectionError.reason]
    p = proxy()
    with pytest.raises(oauth_proxy.Forbidden) as forbidden:
        p.authenticate(rest_event(headers={"Origin": "https://evil.example"}))
    assert forbidden.value.status == oauth_proxy.REASONS[forbidden.value.reason] == 403
    with pytest.raises(oauth_proxy.Unauthorized) as unauthorized:
        p.authenticate(rest_event(headers={"Origin": ORIGIN}))
    assert unauthorized.value.status == oauth_proxy.REASONS[unauthorized.value.reason] == 401


class _Denials(logging.Handler):
    """The (reason, status) of every denial line on the "oauth_proxy" logger, in either log format."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list = []

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "event", None) == "authorizer_denied":
            self.seen.append((record.reason, record.status))  # type: ignore[attr-defined]
            return
        line = json.loads(record.getMessage())
        if line.get("event") == "authorizer_denied":
            self.seen.append((line["reason"], line["status"]))


def test_reasons_is_exactly_what_the_outcomes_produce():
    """Every outcome of tests/outcomes.py runs once with the denial log captured: each code it produces is in
    REASONS with the status it was logged with, each code of REASONS is produced by some outcome, and an
    outcome named after a code produces that code. deny(event, reason) outcomes log the caller's own codes and
    are left out."""
    import outcomes

    cases = outcomes.build()
    logger = logging.getLogger("oauth_proxy")
    handler = _Denials()
    logger.addHandler(handler)
    level = logger.level
    produced: dict = {}
    try:
        for name, case in cases.items():
            if name.startswith("deny_"):
                continue
            logger.setLevel(logging.WARNING)  # a case that builds a proxy sets the configured level again
            handler.seen.clear()
            case()
            for code, status in handler.seen:
                produced.setdefault(code, set()).add(status)
            if name in oauth_proxy.REASONS:
                assert (name, oauth_proxy.REASONS[name]) in handler.seen, f"outcome {name} logged {handler.seen}"
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        outcomes.close_servers()
    assert {code: statuses for code, statuses in produced.items()} == {
        code: {status} for code, status in oauth_proxy.REASONS.items()}


def documented_codes() -> list:
    """(code, status) of each row of the documentation's reason table, in order."""
    path, header = REASONS_DOC
    lines = path.read_text(encoding="utf-8").splitlines()
    assert header in lines, f"{path.name}: no reason table ({header})"
    rows = []
    for line in lines[lines.index(header) + 2:]:
        if not line.startswith("|"):
            break
        code, status = [cell.strip() for cell in line.strip("|").split("|")][:2]
        rows.append((code.strip("`"), int(status)))
    return rows


def test_the_documentation_lists_every_code_and_only_those():
    documented = documented_codes()
    codes = [code for code, _ in documented]
    assert len(codes) == len(set(codes)), "a code is listed twice"
    assert set(codes) == set(oauth_proxy.REASONS)
    assert dict(documented) == dict(oauth_proxy.REASONS), "a documented status differs from REASONS"
