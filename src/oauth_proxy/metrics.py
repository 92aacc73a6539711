"""CloudWatch Embedded Metric Format (EMF) lines for METRICS=true: written to stdout, where the Lambda
service turns them into metrics without any API call from the function.

Per invocation, one JSON object holds the counts the C authorizer kept (OAuthProxy._take_metrics):
Allowed, Denied (also by the dimension Reason), and with phantom tokens IntrospectionCalls,
IntrospectionLatency (milliseconds, one value per call), CacheHits and CacheMisses; plus the request ids,
as properties that CloudWatch Logs Insights can search. Hand-written rather than through a library: the
directives are built once, and an invocation only formats numbers into them."""
from __future__ import annotations

import json
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Iterable, List, Optional, Tuple

from .denial_log import api_request_id, lambda_request_id


def _json_str(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str) and value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return json.dumps(value)


class EmfWriter:
    """Turns the counts of one invocation into EMF lines (a str ending in a newline)."""

    def __init__(self, namespace: str, phantom: bool) -> None:
        self.phantom = phantom
        counts = ["Allowed", "Denied"] + (["IntrospectionCalls", "CacheHits", "CacheMisses"] if phantom else [])
        metrics = [{"Name": name, "Unit": "Count"} for name in counts]
        latency = {"Name": "IntrospectionLatency", "Unit": "Milliseconds"}

        def directive(dimensions: List[List[str]], names: List[Dict[str, str]]) -> str:
            return json.dumps({"Namespace": namespace, "Dimensions": dimensions, "Metrics": names},
                              separators=(",", ":"))

        self._plain = directive([[]], metrics)
        self._plain_with_latency = directive([[]], metrics + [latency])
        self._by_reason = directive([["Reason"]], [{"Name": "Denied", "Unit": "Count"}])

    def lines(self, taken: Optional[Dict[str, Any]], event: object = None, context: object = None) -> str:
        if not taken:
            return ""
        head = f'{{"_aws":{{"Timestamp":{int(time.time() * 1000)},"CloudWatchMetrics":['
        ids = f'"apiRequestId":{_json_str(api_request_id(event))},"awsRequestId":{_json_str(lambda_request_id(context))}}}\n'
        denied = taken["denied"]
        if not denied:
            members = f'"Allowed":{taken["allowed"]},"Denied":0,'
            reasons: Iterable[Tuple[str, int]] = ()
        else:
            members = f'"Allowed":{taken["allowed"]},"Denied":{sum(denied.values())},'
            reasons = denied.items()
        directives = self._plain
        if self.phantom:
            members += (f'"IntrospectionCalls":{taken["introspection_calls"]},"CacheHits":{taken["cache_hits"]},'
                        f'"CacheMisses":{taken["cache_misses"]},')
            latency = taken["introspection_latency_ms"]
            if latency:
                directives = self._plain_with_latency
                members += '"IntrospectionLatency":[' + ",".join([f"{ms:.3f}" for ms in latency]) + "],"
        if len(denied) == 1:
            # The usual invocation: one request, so at most one reason, which goes into the same object.
            (reason,) = denied
            return f'{head}{directives},{self._by_reason}]}},{members}"Reason":{_json_str(reason)},{ids}'
        out = f"{head}{directives}]}},{members}{ids}"
        # Several reasons between two reads (threads sharing one proxy outside Lambda): one object each,
        # since an EMF object holds one value per dimension.
        for reason, count in reasons:
            out += f'{head}{self._by_reason}]}},"Denied":{count},"Reason":{_json_str(reason)},{ids}'
        return out


def failure_line(namespace: str, counts: Dict[str, int], code: Optional[str], event: object = None,
                 context: object = None) -> str:
    """One EMF line counting configuration failures of an invocation (or of the init phase): ConfigErrors
    (an invocation refused for its configuration) and SecretFetchFailures (a fetch of referenced secrets
    that failed, values kept or not), with the error code as a property (AWS's, or the package's category;
    never a value)."""
    if not counts:
        return ""
    directive = json.dumps({"Namespace": namespace, "Dimensions": [[]],
                            "Metrics": [{"Name": name, "Unit": "Count"} for name in counts]}, separators=(",", ":"))
    members = "".join(f'"{name}":{count},' for name, count in counts.items())
    return (f'{{"_aws":{{"Timestamp":{int(time.time() * 1000)},"CloudWatchMetrics":[{directive}]}},{members}'
            f'"errorCode":{_json_str(code)},"apiRequestId":{_json_str(api_request_id(event))},'
            f'"awsRequestId":{_json_str(lambda_request_id(context))}}}\n')
