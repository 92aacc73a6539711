"""Side-by-side benchmarks: ours (the C extension) against a pure-Python reference and the OpenSSL
floor, in one process run. Prints a table and writes benchmarks/RESULTS.md.

    make bench                  (or: .venv/bin/python benchmarks/run.py [--rounds N] [--quick] [--no-write])

How it measures
- Per-request cost: rounds of timed batches, every (implementation, case) pair once per round in a
  shuffled order, so drift of the machine (frequency, neighbours) hits all pairs alike; the figure is the
  median over rounds. The garbage collector is off during a batch, as timeit does.
- The floor (benchmarks/floor.c) is a separate C binary run once per round between the Python batches. It is
  not bound through ctypes because a ctypes call costs about as much as the floor itself and would hide it.
- Cold start: a new process that runs `import handler; handler.handler(event, None)` (or the reference's
  equivalent) minus the same process without those two statements; same interpreter, flags and
  environment for all; median of 20, interleaved.
- RSS: VmRSS of the child just before and after the import (and after the first call).
- Threads: 2 threads sharing one authorizer, against 1 thread, same total work.
- Phantom: cache hit against the same request without phantom; cache miss against a loopback endpoint in its
  own process, on a kept-alive connection and on a new connection per call.
- METRICS: authorize and handler.handler with METRICS=true against the same without, in the same
  interleaved rounds. The handler with metrics writes its EMF line per call to a line-buffered /dev/null, so
  each line costs a write system call, as on Lambda (whose runtime flushes stdout on every write).
- Library API: `allow(event, authenticate(event))` called from a Python function (as an authorizer of one's
  own does), in the same rounds as `authorize`; and `authorize` with ROUTE_SCOPES and CONTEXT_CLAIMS set.
"""
from __future__ import annotations

import argparse
import atexit
import base64
import datetime
import gc
import itertools
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# Only benchmarks/ is put on the path: oauth_proxy comes from the installed package (`make build`), as in
# `make test`; the source tree's src/oauth_proxy/ has no compiled _core. handler.py is not installed with the
# package: it is imported from a folder holding only a copy of it, as Lambda's /var/task holds the function.
sys.path.insert(0, HERE)
FUNCTION_DIR = tempfile.mkdtemp(prefix="oauth-proxy-bench-function-")
shutil.copy(os.path.join(ROOT, "handler.py"), FUNCTION_DIR)
atexit.register(shutil.rmtree, FUNCTION_DIR, True)

import reference_authorizer  # noqa: E402

try:
    from oauth_proxy.testing import make_jwt as unsigned_jwt
except ImportError as exc:  # a fresh clone without the extension built
    raise SystemExit(f"run.py: oauth_proxy is not importable ({exc}); run `make build` first, and run.py with "
                     ".venv/bin/python") from None

KEY = "7b99279ab87533d3c238db874a842a91ee26a76027f3c03c317504963d2c9926"  # vectors/curity-v1.json, key A
PREFIX = "example"
ORIGIN = "https://www.example.com"
OPAQUE = "42665300-efe8-419d-be52-07b53e208f46"
CSRF = "a9f1c0d2e3b4a5968778695a4b3c2d1e0f1a2b3c4d5e6f708192a3b4c5d6e7f8"
METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/{method}/api/orders"
CASES = ("GET opaque", "POST opaque", "GET JWT", "POST JWT")
FLOOR_KEYS = {"GET opaque": "get_opaque", "POST opaque": "post_opaque", "GET JWT": "get_jwt",
              "POST JWT": "post_jwt"}
BATCH_SECONDS = 0.005  # short batches: on a shared machine more of them fall between other processes' time slices
MB = 1024 * 1024


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jwt(target_len=1024) -> str:
    """An RS256-shaped JWT of about target_len characters, expiring in a day (the signature is filler:
    an authorizer behind the token handler does not verify it, the API does)."""
    header = {"kid": "644295016", "alg": "RS256"}
    claims = {"jti": "825e4c90-1977-484f-9f51-25ae8fb3546f", "delegationId": "552bd8b7-18b0-4314-892d-897598d809df",
              "exp": int(time.time()) + 86400, "nbf": int(time.time()), "scope": "openid profile orders",
              "iss": "https://login.example.com/oauth/v2/oauth-anonymous",
              "sub": "4b6a1d00702e8d605c6e9b0047795d0f2c666cfce3e04835698be31ea655c4cb",
              "aud": "api.example.com", "iat": int(time.time()), "purpose": "access_token"}
    signature = b64url(bytes(range(256)))  # RS256 signatures are 256 bytes
    jwt = unsigned_jwt(claims, header, signature)
    missing = target_len - len(jwt) - 12  # 12: the base64 of ',"pad":""'
    if missing > 0:
        claims["pad"] = "x" * (missing * 3 // 4)
        jwt = unsigned_jwt(claims, header, signature)
    return jwt


JWT = make_jwt()


def make_event(method: str, token: str, version: str = "1.0") -> dict:
    """A REST API (payload 1.0) REQUEST authorizer event shaped like what API Gateway sends a browser call."""
    at = reference_authorizer.encrypt_cookie(token, KEY)
    cookie = f"{PREFIX}-at={at}"
    if method != "GET":
        cookie += f"; {PREFIX}-csrf={reference_authorizer.encrypt_cookie(CSRF, KEY)}"
    headers = {
        "Accept": "application/json, text/plain, */*",
        "Accept-Encoding": "gzip, deflate, br",
        "Accept-Language": "en-GB,en;q=0.9",
        "CloudFront-Forwarded-Proto": "https",
        "Cookie": cookie,
        "Host": "api.example.com",
        "Origin": ORIGIN,
        "Referer": ORIGIN + "/",
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
        "X-Amzn-Trace-Id": "Root=1-65a1b2c3-0123456789abcdef01234567",
        "X-Forwarded-For": "203.0.113.10",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    if method != "GET":
        headers["Content-Type"] = "application/json"
        headers[f"x-{PREFIX}-csrf"] = CSRF
    if version == "2.0":
        cookies = [c.strip() for c in headers.pop("Cookie").split(";")]
        arn = METHOD_ARN.format(method=method)
        return {"version": "2.0", "type": "REQUEST", "routeArn": arn, "identitySource": [],
                "routeKey": f"{method} /api/orders", "rawPath": "/api/orders", "rawQueryString": "",
                "cookies": cookies, "headers": {k.lower(): v for k, v in headers.items()},
                "requestContext": {"accountId": "123456789012", "apiId": "abcdef1234", "domainName": "api.example.com",
                                   "http": {"method": method, "path": "/api/orders", "protocol": "HTTP/1.1",
                                            "sourceIp": "203.0.113.10", "userAgent": headers["User-Agent"]},
                                   "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "routeKey": f"{method} /api/orders",
                                   "stage": "prod", "time": "25/Nov/2026:08:00:00 +0000", "timeEpoch": 1795593600000}}
    return {
        "type": "REQUEST",
        "methodArn": METHOD_ARN.format(method=method),
        "resource": "/api/orders",
        "path": "/api/orders",
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"resourcePath": "/api/orders", "httpMethod": method, "path": "/prod/api/orders",
                           "accountId": "123456789012", "stage": "prod", "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                           "identity": {"sourceIp": "203.0.113.10", "userAgent": headers["User-Agent"]},
                           "apiId": "abcdef1234"},
    }


def events() -> dict:
    return {"GET opaque": make_event("GET", OPAQUE), "POST opaque": make_event("POST", OPAQUE),
            "GET JWT": make_event("GET", JWT), "POST JWT": make_event("POST", JWT)}


BASE_ENV = {"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX, "ENCRYPTION_KEY": KEY}


# -- the floor -----------------------------------------------------------------------------------------

def build_floor() -> str:
    out_dir = os.path.join(ROOT, "build", "bench")
    os.makedirs(out_dir, exist_ok=True)
    binary = os.path.join(out_dir, "floor")
    source = os.path.join(HERE, "floor.c")
    if not os.path.exists(binary) or os.path.getmtime(binary) < os.path.getmtime(source):
        cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
        if not cc:
            raise SystemExit("run.py: no C compiler (cc or gcc) to build benchmarks/floor.c")
        subprocess.run([cc, "-O2", "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Wextra", "-Werror",
                        source, "-lcrypto", "-o", binary], check=True)
    return binary


def floor_args(binary: str, evs: dict, iterations: int) -> list:
    def cookie(ev, name):
        for pair in ev["headers"]["Cookie"].split(";"):
            k, _, v = pair.strip().partition("=")
            if k == name:
                return v
        raise KeyError(name)
    return [binary, KEY, cookie(evs["POST opaque"], f"{PREFIX}-at"), cookie(evs["POST JWT"], f"{PREFIX}-at"),
            cookie(evs["POST opaque"], f"{PREFIX}-csrf"), CSRF, str(iterations)]


def run_floor(args: list) -> dict:
    result = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


# -- timing helpers ------------------------------------------------------------------------------------

def time_batch(fn, arg, n: int, handler_style: bool = False) -> float:
    """ns per call of fn(arg) (or fn(arg, None) for a Lambda handler) over n calls, gc off."""
    repeat = itertools.repeat(None, n)
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        if handler_style:
            start = time.perf_counter_ns()
            for _ in repeat:
                fn(arg, None)
        else:
            start = time.perf_counter_ns()
            for _ in repeat:
                fn(arg)
        elapsed = time.perf_counter_ns() - start
    finally:
        if gc_was_on:
            gc.enable()
    return elapsed / n


def calibrate(fn, arg, handler_style=False) -> int:
    n = 10
    while True:
        per_call = time_batch(fn, arg, n, handler_style)
        if per_call * n > 2e6 or n >= 1_000_000:
            return max(10, int(BATCH_SECONDS * 1e9 / per_call))
        n *= 10


def interleaved(pairs: dict, rounds: int, floor=None, seed=5) -> tuple:
    """pairs: name -> (fn, arg, handler_style). Returns (name -> list of ns/call, floor name -> list)."""
    sizes = {name: calibrate(*spec) for name, spec in pairs.items()}
    samples = {name: [] for name in pairs}
    floor_samples = {}
    rng = random.Random(seed)
    names = list(pairs)
    for _ in range(rounds):
        rng.shuffle(names)
        for name in names:
            fn, arg, handler_style = pairs[name]
            samples[name].append(time_batch(fn, arg, sizes[name], handler_style))
        if floor is not None:
            for case, ns in run_floor(floor).items():
                floor_samples.setdefault(case, []).append(ns)
    return samples, floor_samples


def med(values):
    return statistics.median(values)


def paired(numerators, denominators):
    """Median of the per-round ratios: each round's two figures were taken moments apart, so slow drift of
    the machine cancels out of every ratio."""
    return med([n / d for n, d in zip(numerators, denominators)])


def spread(values):
    """Relative interquartile range, to show how noisy a figure is."""
    if len(values) < 4:
        return 0.0
    q = statistics.quantiles(values, n=4)
    return (q[2] - q[0]) / q[1] if q[1] else 0.0


# -- ours ----------------------------------------------------------------------------------------------

def load_ours():
    """(oauth_proxy module, handler module): handler.py as Lambda imports it, configured by BASE_ENV."""
    os.environ.update(BASE_ENV)
    import oauth_proxy
    sys.path.insert(0, FUNCTION_DIR)
    import handler
    return oauth_proxy, handler


def ours_proxy(oauth_proxy, **extra):
    cfg = oauth_proxy.Config(trusted_web_origins=[ORIGIN], cookie_name_prefix=PREFIX, encryption_key=KEY, **extra)
    return oauth_proxy.OAuthProxy(cfg)


def library_call(proxy):
    """An authorizer of one's own with no rule added: authenticate, then allow."""
    authenticate, allow = proxy.authenticate, proxy.allow

    def call(event):
        return allow(event, authenticate(event))
    return call


# The benchmark JWT carries scope "openid profile orders"; its events' route is /api/orders.
LIBRARY_EXTRAS = {"route_scopes": "GET /api/orders=orders; * /api/*=openid", "context_claims": "sub,scope"}


# -- cold start and RSS --------------------------------------------------------------------------------

CHILD = r"""
import sys, time
ev = {event!r}
def rss():
    with open('/proc/self/status') as f:
        fields = dict(line.split(':', 1) for line in f)
    return ','.join(str(int(fields[k].split()[0]) * 1024) for k in ('VmRSS', 'RssAnon'))
{prelude}
r0 = rss(); t0 = time.perf_counter()
{body}
t1 = time.perf_counter(); r1 = rss()
{call}
t2 = time.perf_counter(); r2 = rss()
print(t1 - t0, t2 - t0, r0, r1, r2)
"""

# Modules the AWS Lambda Python runtime (awslambdaric bootstrap) has imported before it imports the handler,
# so a handler that imports them again pays nothing there. Used for the informative "runtime-warm" rows.
RUNTIME_PRELUDE = "import json, logging"

CHILD_BODIES = {
    "bare": ("pass", "pass"),
    "ours": (f"sys.path.insert(0, {FUNCTION_DIR!r}); import handler", "handler.handler(ev, None)"),
    "reference": ("import reference_authorizer as handler", "handler.handler(ev, None)"),
}


def child_command(kind: str, event: dict) -> list:
    """kind: bare, ours or reference, with "+rt" for the runtime-warm variant."""
    base, _, warm = kind.partition("+")
    body, call = CHILD_BODIES[base]
    prelude = RUNTIME_PRELUDE if warm else ""
    return [sys.executable, "-c", CHILD.format(event=event, body=body, call=call, prelude=prelude)]


def child_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(BASE_ENV)
    return env


def cold_start(kinds, event, runs=20) -> dict:
    env = child_env()
    commands = {kind: child_command(kind, event) for kind in kinds}
    for command in commands.values():  # compile and cache the .pyc files, page in the shared libraries
        subprocess.run(command, env=env, cwd=HERE, check=True, capture_output=True)
    wall = {kind: [] for kind in kinds}
    inner = {kind: [] for kind in kinds}
    rss = {kind: [] for kind in kinds}
    order = list(kinds)
    for i in range(runs):
        order = order[1:] + order[:1]
        for kind in order:
            start = time.perf_counter()
            out = subprocess.run(commands[kind], env=env, cwd=HERE, check=True, capture_output=True, text=True)
            wall[kind].append(time.perf_counter() - start)
            import_s, total_s, r0, r1, r2 = out.stdout.split()
            inner[kind].append(float(total_s))
            (v0, a0), (v1, a1), (v2, _) = [map(int, r.split(",")) for r in (r0, r1, r2)]
            rss[kind].append((v1 - v0, v2 - v0, a1 - a0))
    result = {}
    for kind in kinds:
        result[kind] = {"wall_ms": med(wall[kind]) * 1e3, "inner_ms": med(inner[kind]) * 1e3,
                        "rss_import": med(r[0] for r in rss[kind]), "rss_first_call": med(r[1] for r in rss[kind]),
                        "anon_import": med(r[2] for r in rss[kind])}
    return result


# -- threads -------------------------------------------------------------------------------------------

def throughput(fn, event, threads: int, total: int) -> float:
    """Requests per second with `threads` threads sharing fn, total calls split between them."""
    per_thread = total // threads
    barrier = threading.Barrier(threads + 1)
    errors = []

    def work():
        barrier.wait()
        try:
            for _ in itertools.repeat(None, per_thread):
                fn(event)
        except Exception as exc:  # pragma: no cover - reported, not hidden
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    start = time.perf_counter()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return per_thread * threads / elapsed


# -- introspection server ------------------------------------------------------------------------------

class IntrospectionServer:
    def __init__(self, jwt: str):
        self._file = tempfile.NamedTemporaryFile("w", suffix=".jwt", delete=False)
        self._file.write(jwt)
        self._file.close()
        self._proc = subprocess.Popen([sys.executable, os.path.join(HERE, "introspection_server.py"), self._file.name],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.port = int(self._proc.stdout.readline())

    def url(self, mode: str) -> str:
        return f"http://127.0.0.1:{self.port}/oauth/v2/introspect/{mode}"

    def close(self):
        self._proc.stdin.close()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        os.unlink(self._file.name)


PHANTOM = {"use_phantom_token": True, "client_id": "bench-client", "client_secret": "bench-secret"}


# -- report --------------------------------------------------------------------------------------------

def machine() -> str:
    model = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
        model = f"{fields.get('Model name', '?').strip()}, {fields.get('CPU(s)', '?').strip()} CPUs, " \
                f"hypervisor {fields.get('Hypervisor vendor', 'none').strip()}"
    except OSError:
        pass
    try:
        import ssl
        openssl = ssl.OPENSSL_VERSION
    except ImportError:
        openssl = "?"
    return (f"{model}; {' '.join(platform.uname()[:3])} {platform.machine()}; "
            f"Python {platform.python_version()} ({sys.executable}); {openssl}")


def tree() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "csrc", "src",
                                "handler.py", "benchmarks/*.py", "benchmarks/floor.c"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"commit {head}" + (" with local changes to the measured code" if dirty else "")


def us(ns):
    return f"{ns / 1000:.2f}"


# -- the run, one step per measured section ----------------------------------------------------------------

class Run:
    """What the steps share: the options, the subjects measured, the timings, and what the report collects
    (targets: (target, measured, met); notes: lines for the Notes section)."""

    def __init__(self, args):
        self.args = args
        self.notes = []
        self.targets = []
        self.evs = events()
        self.ref = reference_authorizer.ReferenceAuthorizer([ORIGIN], PREFIX, KEY)
        self.oauth_proxy, self.handler = load_ours()
        self.proxy = ours_proxy(self.oauth_proxy)
        self.library = library_call(self.proxy)
        self.extras_proxy = ours_proxy(self.oauth_proxy, **LIBRARY_EXTRAS)
        self.server = None          # the introspection endpoint of the phantom pairs
        self.phantom_proxy = None   # set when phantom tokens work against it
        self.samples = {}           # (who, case) -> ns per call, one per round
        self.floor_samples = {}     # floor case -> ns per call, one per round


def check_agreement(run):
    """The comparison only means something if ours, the reference and the library API answer alike."""
    proxy = run.proxy
    for case, ev in run.evs.items():
        if proxy.authorize(ev) != run.ref.authorize(ev) or run.handler.handler(ev, None) != proxy.authorize(ev):
            run.notes.append(f"WARNING: ours and the reference answer {case} differently")
        if run.library(ev) != proxy.authorize(ev):
            run.notes.append(f"WARNING: authenticate + allow and authorize answer {case} differently")
    if "sub" not in run.extras_proxy.authorize(run.evs["GET JWT"])["context"]:
        run.notes.append("WARNING: the ROUTE_SCOPES + CONTEXT_CLAIMS authorizer did not allow GET JWT")


def request_pairs(run):
    """Everything timed in the interleaved rounds: (who, case) -> (function, event, called as a handler)."""
    evs, proxy = run.evs, run.proxy
    pairs = {}
    for case, ev in evs.items():
        pairs[("reference", case)] = (run.ref.authorize, ev, False)
        pairs[("authorize", case)] = (proxy.authorize, ev, False)
        pairs[("handler", case)] = (run.handler.handler, ev, True)
        pairs[("authenticate + allow", case)] = (run.library, ev, False)
    pairs[("authorize, ROUTE_SCOPES + CONTEXT_CLAIMS", "GET JWT")] = (run.extras_proxy.authorize, evs["GET JWT"], False)
    pairs[("python call", "id(x)")] = (id, evs["GET opaque"], False)
    pairs.update(metrics_pairs(run))
    pairs.update(phantom_hit_pairs(run))
    return pairs


def metrics_pairs(run):
    from oauth_proxy.lambda_handler import make_handler

    get_opaque = run.evs["GET opaque"]
    metrics_proxy = ours_proxy(run.oauth_proxy, metrics=True)
    plain_authorize = run.proxy.authorize

    def handler_without_request_ids(event, context):  # handler.handler without keeping the invocation for logs
        return plain_authorize(event)

    return {
        ("authorize, METRICS on", "GET opaque"): (metrics_proxy.authorize, get_opaque, False),
        ("handler, METRICS on", "GET opaque"): (make_handler({**BASE_ENV, "METRICS": "true"}), get_opaque, True),
        ("handler as before", "GET opaque"): (handler_without_request_ids, get_opaque, True),
    }


def phantom_hit_pairs(run):
    """The phantom cache hit, ours and the reference's, once the loopback endpoint answers; starts run.server."""
    get_opaque = run.evs["GET opaque"]
    run.server = IntrospectionServer(JWT)
    keep = run.server.url("keep")
    try:
        phantom_proxy = ours_proxy(run.oauth_proxy, introspection_url=keep, introspection_cache_ttl=300, **PHANTOM)
        hit = phantom_proxy.authorize(get_opaque)
        if hit.get("context", {}).get("token") != "Bearer " + JWT:
            raise RuntimeError("the phantom token was not exchanged for the JWT")
    except Exception as exc:
        run.notes.append(f"phantom benchmarks skipped: Config(use_phantom_token=True, ...) does not work yet "
                         f"({type(exc).__name__}: {exc})")
        return {}
    run.phantom_proxy = phantom_proxy
    phantom_ref = reference_authorizer.ReferenceAuthorizer([ORIGIN], PREFIX, KEY, introspection_url=keep,
                                                            introspection_cache_ttl=300, **PHANTOM)
    phantom_ref.authorize(get_opaque)
    metrics_phantom = ours_proxy(run.oauth_proxy, introspection_url=keep, introspection_cache_ttl=300, metrics=True,
                                 **PHANTOM)
    metrics_phantom.authorize(get_opaque)
    return {
        ("authorize", "GET opaque, phantom cache hit"): (phantom_proxy.authorize, get_opaque, False),
        ("reference", "GET opaque, phantom cache hit"): (phantom_ref.authorize, get_opaque, False),
        ("authorize, METRICS on", "GET opaque, phantom cache hit"): (metrics_phantom.authorize, get_opaque, False),
    }


def time_rounds(run, pairs, floor):
    """The interleaved rounds of every pair and the floor, into run.samples and run.floor_samples."""
    print(f"timing {len(pairs)} pairs and the floor, {run.args.rounds} interleaved rounds ...", flush=True)
    real_stdout = sys.stdout
    sys.stdout = open(os.devnull, "w", buffering=1)  # the EMF lines of the METRICS=true handler
    try:
        run.samples, run.floor_samples = interleaved(pairs, run.args.rounds, floor)
    finally:
        sys.stdout.close()
        sys.stdout = real_stdout


def per_request(run):
    """1. Per request: rows of the main table, the cost of a bare Python call, and METRICS on/off rows."""
    samples, floor_samples = run.samples, run.floor_samples
    figure = {key: med(values) for key, values in samples.items()}
    rows = []
    for case in CASES:
        floor_case = floor_samples[FLOOR_KEYS[case]]
        a, h = figure[("authorize", case)], figure[("handler", case)]
        speedup = paired(samples[("reference", case)], samples[("authorize", case)])
        vs_floor = paired(samples[("authorize", case)], floor_case)
        rows.append({"case": case, "floor": med(floor_case), "reference": figure[("reference", case)],
                     "authorize": a, "handler": h, "speedup": speedup, "vs_floor": vs_floor,
                     "authorize_min": min(samples[("authorize", case)]), "floor_min": min(floor_case),
                     "noise": max(spread(samples[("authorize", case)]), spread(samples[("reference", case)]))})
        need = 4.0 if case == "POST opaque" else 3.0
        run.targets.append((f"authorize >= {need:g}x faster than the reference, {case}", f"{speedup:.1f}x",
                            speedup >= need))
        if case == "POST opaque":
            run.targets.append(("authorize within 2.5x of the OpenSSL floor, POST opaque", f"{vs_floor:.2f}x",
                                vs_floor <= 2.5))
    comparisons = [
        (("authorize", "GET opaque"), ("authorize, METRICS on", "GET opaque")),
        (("handler", "GET opaque"), ("handler, METRICS on", "GET opaque")),
        (("handler as before", "GET opaque"), ("handler", "GET opaque")),
        (("authorize", "GET opaque, phantom cache hit"), ("authorize, METRICS on", "GET opaque, phantom cache hit")),
    ]
    metrics_rows = []
    for off, on in comparisons:
        if off in samples and on in samples:
            metrics_rows.append((on[0] if off[0] != "handler as before" else "handler (request ids kept)", off[0],
                                 on[1], figure[off], figure[on], paired(samples[on], samples[off])))
    return rows, figure[("python call", "id(x)")], metrics_rows


def library_api(run):
    """1b. The library API: authenticate + allow against authorize, and authorize with the route rules."""
    samples = run.samples
    rows = []
    for case in CASES:
        ratio = paired(samples[("authenticate + allow", case)], samples[("authorize", case)])
        rows.append((f"authenticate + allow, {case}", med(samples[("authenticate + allow", case)]),
                     med(samples[("authorize", case)]), ratio))
        run.targets.append((f"authenticate + allow <= 1.3x authorize, {case}", f"{ratio:.2f}x", ratio <= 1.3))
    key = ("authorize, ROUTE_SCOPES + CONTEXT_CLAIMS", "GET JWT")
    rows.append(("authorize with ROUTE_SCOPES (2 entries) and CONTEXT_CLAIMS (sub, scope), GET JWT",
                 med(samples[key]), med(samples[("authorize", "GET JWT")]),
                 paired(samples[key], samples[("authorize", "GET JWT")])))
    return rows


def phantom(run):
    """2. Phantom token: the cache hit from the rounds above, then cache misses timed on their own."""
    rows = []
    if run.phantom_proxy is not None:
        samples = run.samples
        hit_samples = samples[("authorize", "GET opaque, phantom cache hit")]
        vs_plain = paired(hit_samples, samples[("authorize", "GET opaque")])
        vs_jwt = paired(hit_samples, samples[("authorize", "GET JWT")])
        rows.append(("ours: cache hit, GET opaque", med(hit_samples),
                     f"{vs_plain:.2f}x the plain GET opaque request; {vs_jwt:.2f}x a GET with the same 1 KB "
                     "JWT in its cookie"))
        rhit = samples[("reference", "GET opaque, phantom cache hit")]
        rows.append(("reference: cache hit, GET opaque", med(rhit),
                     f"{paired(rhit, samples[('reference', 'GET opaque')]):.2f}x its plain GET opaque; "
                     f"{paired(rhit, samples[('reference', 'GET JWT')]):.2f}x its GET JWT"))
        run.targets.append(("phantom cache hit < 1.5x a plain cookie request (GET opaque; the hit answers with a "
                            "1 KB JWT)", f"{vs_plain:.2f}x", vs_plain < 1.5))
        rows.extend(phantom_misses(run))
    if run.server is not None:
        run.server.close()
    return rows


def phantom_misses(run):
    miss_pairs = {}
    for mode in ("keep", "close"):
        p = ours_proxy(run.oauth_proxy, introspection_url=run.server.url(mode), introspection_cache_ttl=0, **PHANTOM)
        rp = reference_authorizer.ReferenceAuthorizer([ORIGIN], PREFIX, KEY, introspection_url=run.server.url(mode),
                                                      introspection_cache_ttl=0, **PHANTOM)
        miss_pairs[("ours", mode)] = (p.authorize, run.evs["GET opaque"], False)
        miss_pairs[("reference", mode)] = (rp.authorize, run.evs["GET opaque"], False)
    rounds = max(5, run.args.rounds // 2)
    print(f"timing introspection cache misses, {rounds} rounds ...", flush=True)
    miss, _ = interleaved(miss_pairs, rounds)
    rows = []
    for (who, mode), values in sorted(miss.items()):
        label = "kept-alive connection" if mode == "keep" else "new connection per call"
        rows.append((f"{who}: cache miss, {label}", med(values), ""))
    return rows


def threads(run):
    """3. Two threads sharing one authorizer against one thread, same total work (median of 7)."""
    rows = []
    ev = run.evs["POST opaque"]
    for who, fn in (("reference", run.ref.authorize), ("authorize", run.proxy.authorize)):
        total = 60000 if who == "authorize" else 12000
        one, two = [], []
        for _ in range(7):
            one.append(throughput(fn, ev, 1, total))
            two.append(throughput(fn, ev, 2, total))
        rows.append((who, med(one), med(two)))
    return rows


def cold_starts(run):
    """4. Cold start and RSS: new processes, the bare interpreter's start subtracted."""
    kinds = ["bare", "reference", "ours"]
    kinds += [kind + "+rt" for kind in kinds]
    print(f"cold start: {run.args.cold_runs} processes each for {', '.join(kinds)} ...", flush=True)
    cold = cold_start(kinds, run.evs["POST opaque"], run.args.cold_runs)
    bare = cold["bare"]["wall_ms"]
    rows = []
    for kind in kinds:
        if kind.startswith("bare"):
            continue
        c = cold[kind]
        base = cold["bare+rt" if kind.endswith("+rt") else "bare"]["wall_ms"]
        label = kind.replace("+rt", ", runtime-warm")
        rows.append((label, c["wall_ms"] - base, c["inner_ms"], c["rss_import"], c["anon_import"], c["rss_first_call"]))
    ours_cold = cold["ours"]["wall_ms"] - bare
    ref_cold = cold["reference"]["wall_ms"] - bare
    run.targets.append(("cold start (import + first call) <= 1/3 of the reference's",
                        f"{ours_cold:.1f} ms vs {ref_cold:.1f} ms = {ours_cold / ref_cold:.2f}",
                        ours_cold <= ref_cold / 3))
    run.targets.append(("RSS added by `import handler` < 3 MB", f"{cold['ours']['rss_import'] / MB:.2f} MB",
                        cold["ours"]["rss_import"] < 3 * MB))
    return rows, bare


# -- the report ----------------------------------------------------------------------------------------------

def per_request_table(rounds, rows, call_ns):
    lines = [f"## Per request (ns, median of {rounds} interleaved rounds; payload 1.0 REST events, 13-15 headers)",
             "",
             "| case | OpenSSL floor | ours: authorize | ours: handler.handler | reference | reference / authorize | "
             "authorize / floor | authorize / floor, fastest rounds | noise (IQR) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row['case']} | {row['floor']:.0f} | {row['authorize']:.0f} | {row['handler']:.0f} | "
                     f"{row['reference']:.0f} | {row['speedup']:.1f}x | {row['vs_floor']:.2f}x | "
                     f"{row['authorize_min'] / row['floor_min']:.2f}x | {row['noise'] * 100:.0f}% |")
    lines += ["",
              "Figures are medians over rounds; the two ratio columns are medians of the per-round ratios (each "
              "round's figures were taken moments apart), the \"fastest rounds\" column divides the minima, the "
              "least disturbed by other load. Noise = interquartile range / median of the noisier of ours and the "
              "reference.",
              "",
              f"A Python-visible call of a C builtin in the same loop (`id(event)`) costs {call_ns:.0f} ns: "
              "the least any Python-called authorizer can cost on top of its work.",
              ""]
    return lines


def library_table(rows):
    lines = ["## Library API (ns per request, same rounds as above)", "",
             "| what | ns | plain authorize, same case (ns) | ratio (median of per-round ratios) |",
             "|---|---:|---:|---:|"]
    lines += [f"| {name} | {ns:.0f} | {base:.0f} | {ratio:.2f}x |" for name, ns, base, ratio in rows]
    lines += ["",
              "`authenticate + allow` is `allow(event, authenticate(event))` inside a Python function, as an "
              "authorizer of one's own calls them; it includes building the Identity and that function's frame.",
              ""]
    return lines


def phantom_table(rows):
    if not rows:
        return []
    lines = ["## Phantom token (ns per request)", "", "| what | ns | |", "|---|---:|---|"]
    lines += [f"| {name} | {ns:.0f} | {detail} |" for name, ns, detail in rows]
    return lines + [""]


def metrics_table(rows):
    lines = ["## METRICS on vs off, and the request-id bookkeeping of handler (ns per request)", "",
             "| what | against | case | against (ns) | what (ns) | what / against |",
             "|---|---|---|---:|---:|---:|"]
    lines += [f"| {what} | {against} | {case} | {off_ns:.0f} | {on_ns:.0f} | {ratio:.2f}x |"
              for what, against, case, off_ns, on_ns, ratio in rows]
    lines += ["",
              "\"handler, METRICS on\" includes reading the counters, formatting the EMF line and one write "
              "system call per invocation; authorize itself pays a few counter increments. \"handler as "
              "before\" is handler.handler without keeping the invocation for the log lines.",
              ""]
    return lines


def threads_table(rows):
    lines = ["## Two threads sharing one authorizer (POST opaque, requests per second, median of 7)", "",
             "| who | 1 thread | 2 threads | 2 / 1 |", "|---|---:|---:|---:|"]
    lines += [f"| {who} | {one:,.0f} | {two:,.0f} | {two / one:.2f} |" for who, one, two in rows]
    return lines + [""]


def cold_start_table(cold_runs, rows, bare):
    lines = [f"## Cold start and memory (median of {cold_runs} new processes; bare interpreter start "
             f"{bare:.1f} ms subtracted)", "",
             "| who | import + first call, wall (ms) | same, timed inside the process (ms) | RSS added by import (MB) "
             "| of which anonymous (MB) | RSS added after first call (MB) |",
             "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {label} | {wall_ms:.1f} | {inner_ms:.1f} | {r_import / MB:.2f} | {a_import / MB:.2f} | "
              f"{r_call / MB:.2f} |" for label, wall_ms, inner_ms, r_import, a_import, r_call in rows]
    lines += ["",
              f"\"runtime-warm\": the same with `{RUNTIME_PRELUDE}` run first in every process (bare included), as "
              "the Lambda Python runtime has done before it imports a handler; informative, the targets use the "
              "plain rows. Anonymous = RssAnon (private memory); the rest of RSS is file-backed pages such as "
              "shared-library text.",
              ""]
    return lines


def targets_and_notes(targets, notes):
    lines = []
    if targets:
        lines += ["## Targets", "", "| target | measured | |", "|---|---|---|"]
        lines += [f"| {target} | {measured} | {'met' if met else '**missed**'} |" for target, measured, met in targets]
        lines.append("")
    if notes:
        lines += ["## Notes", ""]
        lines += [f"- {note}" for note in notes]
        lines.append("")
    return lines


def write_results(text, command, load_start):
    """RESULTS.md: a header on how and where the figures were taken, the tables, then ANALYSIS.md."""
    load_end = os.getloadavg()
    header = ["# Benchmark results", "",
              f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
              f"- machine: {machine()}",
              f"- load average (1 min) at start and end: {load_start[0]:.2f}, {load_end[0]:.2f} "
              f"(other processes on the machine; 2 CPUs)",
              f"- tree: {tree()}",
              f"- command: `make bench`, i.e. `{command}` from the repository root after `make build`",
              "- method: see the docstring of benchmarks/run.py; the floor is benchmarks/floor.c "
              "(cc -O2, linked with libcrypto), run between rounds.", "", ""]
    analysis_path = os.path.join(HERE, "ANALYSIS.md")
    footer = []
    if os.path.exists(analysis_path):
        with open(analysis_path) as f:
            footer = ["", f.read()]
    with open(os.path.join(HERE, "RESULTS.md"), "w") as f:
        f.write("\n".join(header) + text + "\n".join(footer))
    print(f"wrote {os.path.relpath(os.path.join(HERE, 'RESULTS.md'))}")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=51, help="interleaved rounds (default 51)")
    parser.add_argument("--cold-runs", type=int, default=20, help="processes per cold-start figure (default 20)")
    parser.add_argument("--quick", action="store_true", help="5 rounds, 6 cold starts: a smoke test, not results")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.cold_runs = 5, 6
    return args


def main(argv=None):
    args = parse_args(argv)
    command = "python benchmarks/run.py" + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:]))
    load_start = os.getloadavg()
    run = Run(args)
    check_agreement(run)
    floor = floor_args(build_floor(), run.evs, 5000)
    run_floor(floor)

    time_rounds(run, request_pairs(run), floor)
    request_rows, call_ns, metrics_rows = per_request(run)
    library_rows = library_api(run)
    phantom_rows = phantom(run)
    thread_rows = threads(run)
    cold_rows, bare = cold_starts(run)

    lines = (per_request_table(args.rounds, request_rows, call_ns) + library_table(library_rows)
             + phantom_table(phantom_rows) + metrics_table(metrics_rows) + threads_table(thread_rows)
             + cold_start_table(args.cold_runs, cold_rows, bare) + targets_and_notes(run.targets, run.notes))
    text = "\n".join(lines)
    print()
    print(text)
    if not args.no_write:
        write_results(text, command, load_start)


if __name__ == "__main__":
    main()
