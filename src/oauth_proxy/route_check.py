"""ROUTE_SCOPES entries that can never apply to a request of a given API: `oauth-proxy check-routes TEMPLATE`.

The authorizer matches an entry against the route the request matched, as API Gateway names it (a REST
event's `resource`, the path of an HTTP API's `routeKey`), not against the URL. So with the shipped
descriptions, whose one resource is `/api/{proxy+}`, an entry `* /admin/*=admin` never matches anything: every
request arrives as `/api/{proxy+}`, and the admin scope is silently never required. This check reads the
routes a template defines (oauth_proxy.api_template) and reports, for each entry:

- `no route`: it matches none of the API's routes;
- `shadowed`: it matches some, but on each of them a better entry (exact path before longer prefix before
  shorter, named method before `*`) is the one that applies.

Matching follows the authorizer's own rules (oauth_proxy.config.route_rules): a method compares without
regard to case, `*` matches any method, a path is exact or a prefix ending in `/*`, and `/*` covers every
route, `$default` included. A route of method ANY receives every method.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Set, Tuple, cast

from .api_template import ApiRoute

__all__ = ["Finding", "Rule", "check", "parse_rules"]


class Rule(NamedTuple):
    entry: str  # as written in ROUTE_SCOPES, normalised
    method: str  # upper case, or *
    path: str  # the exact path, or for a prefix entry the part before its final /* ("" for /*)
    prefix: bool


class Finding(NamedTuple):
    entry: str
    problem: str  # "no route" or "shadowed"
    detail: str


def parse_rules(route_scopes: str) -> List[Rule]:
    """ROUTE_SCOPES text, validated and ordered as the authorizer does it (oauth_proxy.config; a ConfigError
    names a bad entry), best first."""
    from types import SimpleNamespace

    from .config import Config, _route_entries, route_rules
    from .settings import SETTINGS

    (setting,) = [s for s in SETTINGS if s.env == "ROUTE_SCOPES"]
    entries = _route_entries(setting, route_scopes)
    ordered = route_rules(cast(Config, SimpleNamespace(route_scopes=entries)))
    return [Rule(f"{method} {path + '/*' if prefix else path}", method, path, prefix)
            for method, path, prefix, _ in ordered]


def applies(rule: Rule, method: str, path: str) -> bool:
    if rule.method != "*" and rule.method != method.upper():
        return False
    if not rule.prefix:
        return path == rule.path
    if rule.path == "":
        return True  # /*: every route, $default included
    return path == rule.path or path.startswith(rule.path + "/")


def _methods(route: ApiRoute, rules: Sequence[Rule]) -> Iterable[str]:
    if route.method != "ANY":
        return [route.method]
    # Every method reaches an ANY route: the ones entries name, and one no entry names.
    return sorted({r.method for r in rules if r.method != "*"}) + ["(any other)"]


def check(rules: Sequence[Rule], routes: Sequence[ApiRoute]) -> List[Finding]:
    """The entries that never apply to a request of an API with these routes, in ROUTE_SCOPES order of
    precedence. Only routes with an authorizer count (the others never reach it)."""
    guarded = [r for r in routes if r.authorizer is not None]
    used: Set[Rule] = set()
    matched: Dict[Rule, List[str]] = {}
    for route in guarded:
        for method in _methods(route, rules):
            winner: Optional[Rule] = None
            for rule in rules:
                if applies(rule, method, route.path):
                    matched.setdefault(rule, []).append(f"{method} {route.path}")
                    if winner is None:
                        winner = rule
            if winner is not None:
                used.add(winner)
    findings = []
    known = ", ".join(sorted({f"{r.method} {r.path}" for r in guarded})) or "none"
    for rule in rules:
        if rule in used:
            continue
        if rule not in matched:
            findings.append(Finding(rule.entry, "no route", f"the API's routes: {known}"))
        else:
            findings.append(Finding(rule.entry, "shadowed", "a better entry applies on " + ", ".join(matched[rule])))
    return findings


def report(template_path: str, route_scopes: str, api_type: Optional[str] = None) -> Tuple[List[str], int]:
    """The lines `oauth-proxy check-routes` prints, and its exit status (0: every entry can apply)."""
    from .api_template import load, read

    rules = parse_rules(route_scopes)
    apis = [api for api in read(load(template_path)) if api_type in (None, api.api_type)]
    if not apis:
        return [f"{template_path}: no API Gateway API with a Lambda authorizer found"], 2
    lines, status = [], 0
    for api in apis:
        findings = check(rules, api.routes)
        label = f"{api.api_type} API"
        if not findings:
            lines.append(f"{label}: every ROUTE_SCOPES entry ({len(rules)}) applies to a route")
        for finding in findings:
            lines.append(f"{label}: {finding.entry!r}: {finding.problem} ({finding.detail})")
            status = 1
    return lines, status
