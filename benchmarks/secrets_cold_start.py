"""What fetching secrets from AWS costs a cold start (docs/secrets.md quotes this script's output).

1. boto3: `python -X importtime -c "import boto3"` (its cumulative import time, as the interpreter reports
   it), and wall time of `import boto3` plus creating a Secrets Manager client, in new processes; beside
   them the modules oauth_proxy's own client loads when it fetches (oauth_proxy.aws_secrets and
   secret_refs, and from the standard library socket, json and CPython's own SHA-256; ssl too for https).
2. Cold start of handler.handler, import + configuration + first call, in new processes: with a literal
   ENCRYPTION_KEY (today's figure), and with ENCRYPTION_KEY=secretsmanager:<name> fetched from moto's server
   on 127.0.0.1; beside them one loopback round trip to moto (GetSecretValue from a warm process).

Medians of --runs new processes (default 15), interleaved; the bare interpreter start is subtracted from
the cold starts. Needs the test extra (moto[server], boto3). Usage: .venv/bin/python benchmarks/secrets_cold_start.py
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))

KEY = "7b99279ab87533d3c238db874a842a91ee26a76027f3c03c317504963d2c9926"
ORIGIN = "https://www.example.com"
BASE_ENV = {"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": "example", "LOG_LEVEL": "ERROR"}


def med(values) -> float:
    return statistics.median(list(values))


def importtime_us(statement: str, module: str) -> int:
    """The cumulative import time (microseconds) of `module` as -X importtime reports it."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", statement], capture_output=True, text=True,
                         check=True, env=clean_env()).stderr
    for line in out.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s*(\S+)$", line)
        if match and match.group(2) == module:
            return int(match.group(1))
    raise RuntimeError(f"{module} not in the importtime output")


def clean_env(extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AWS_"))}
    env.update(extra or {})
    return env


def wall_ms(command: list, env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return (time.perf_counter() - start) * 1e3


CHILD = r"""
import sys, time
{prelude}
sys.path.insert(0, {folder!r})
t0 = time.perf_counter()
import handler
try:
    handler.handler({event!r}, None)
except Exception as error:
    if type(error).__name__ != "Unauthorized":
        raise
print(time.perf_counter() - t0)
"""


def hot_path(event: dict, literal: dict, referenced: dict) -> dict:
    """ns per handler.handler call once warm, for each environment (made by make_handler in this process)."""
    from oauth_proxy.lambda_handler import make_handler

    handlers = {"literal": make_handler(literal), "referenced": make_handler(referenced)}
    rounds: dict = {name: [] for name in handlers}
    for _ in range(21):
        for name, handler in handlers.items():
            start = time.perf_counter_ns()
            for _ in range(20000):
                handler(event, None)
            rounds[name].append((time.perf_counter_ns() - start) / 20000)
    return {name: med(values) for name, values in rounds.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    from moto_server import AWS_ENV, MotoServer

    # 1. boto3 against our client.
    boto_import = [importtime_us("import boto3", "boto3") / 1e3 for _ in range(args.runs)]
    sha = "_sha2" if sys.version_info >= (3, 12) else "_sha256"
    stdlib = f"import socket, json, {sha}, ssl"
    ours_import = [sum(importtime_us(f"import oauth_proxy; import oauth_proxy.secret_refs; {stdlib}", module)
                       for module in ("oauth_proxy.secret_refs", "socket", "json", sha, "ssl")) / 1e3
                   for _ in range(args.runs)]
    boto_client = "import boto3; boto3.client('secretsmanager', region_name='eu-west-1')"
    bare, boto_wall, ours_wall = [], [], []
    env = clean_env({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"})
    for _ in range(args.runs):
        bare.append(wall_ms([sys.executable, "-c", "pass"], env))
        boto_wall.append(wall_ms([sys.executable, "-c", boto_client], env))
        ours_wall.append(wall_ms([sys.executable, "-c", f"import oauth_proxy.secret_refs; {stdlib}"], env))
    print(f"## boto3 against oauth_proxy.aws_secrets (median of {args.runs} new processes, Python "
          f"{sys.version.split()[0]})\n")
    print("| what | -X importtime, cumulative (ms) | wall, bare start subtracted (ms) |")
    print("|---|---:|---:|")
    print(f"| `import boto3` (+ a secretsmanager client, wall) | {med(boto_import):.1f} | {med(boto_wall) - med(bare):.1f} |")
    print(f"| `import oauth_proxy.secret_refs, {stdlib[7:]}` (wall: with `import oauth_proxy`) | "
          f"{med(ours_import):.1f} | {med(ours_wall) - med(bare):.1f} |")

    # 2. cold starts through handler.handler.
    folder = tempfile.mkdtemp(prefix="oauth-proxy-bench-")
    import shutil

    shutil.copy(REPO / "handler.py", folder)
    import oauth_proxy

    cookie = f"example-at={oauth_proxy.encrypt_cookie('opaque-token', KEY)}"
    event = {"type": "REQUEST", "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:abc/prod/GET/orders",
             "httpMethod": "GET", "path": "/orders", "headers": {"Origin": ORIGIN, "Cookie": cookie},
             "multiValueHeaders": None, "requestContext": {"requestId": "bench"}}
    # "runtime-warm": what the Lambda Python runtime has imported before it imports the handler (as in
    # benchmarks/run.py), so the handler's own imports of these cost nothing there.
    commands = {warm: [sys.executable, "-c", CHILD.format(folder=folder, event=event,
                                                          prelude="import json, logging" if warm else "")]
                for warm in (False, True)}
    server = MotoServer()
    try:
        server.boto3("secretsmanager").create_secret(Name="oauth-proxy/cookie-key", SecretString=KEY)
        literal = clean_env({**BASE_ENV, "ENCRYPTION_KEY": KEY})
        referenced = clean_env({**BASE_ENV, **AWS_ENV, "AWS_ENDPOINT_URL": server.url,
                                "ENCRYPTION_KEY": "secretsmanager:oauth-proxy/cookie-key"})
        cases = {(name, warm): (env, commands[warm]) for name, env in (("literal", literal), ("referenced", referenced))
                 for warm in (False, True)}
        for env, command in cases.values():  # compile the .pyc files, page in the libraries
            subprocess.run(command, env=env, check=True, capture_output=True)
        walls = {case: [] for case in cases}
        inner = {case: [] for case in cases}
        bare = {False: [], True: []}
        for _ in range(args.runs):
            for warm in (False, True):
                bare[warm].append(wall_ms([sys.executable, "-c", "import json, logging" if warm else "pass"], literal))
            for case, (env, command) in cases.items():
                start = time.perf_counter()
                out = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
                walls[case].append((time.perf_counter() - start) * 1e3)
                inner[case].append(float(out.stdout.split()[-1]) * 1e3)
        per_call = hot_path(event, {k: v for k, v in literal.items()}, {k: v for k, v in referenced.items()})
        from oauth_proxy.aws_secrets import AwsClient

        client = AwsClient({**AWS_ENV, "AWS_ENDPOINT_URL": server.url})
        client.get_secret_value("oauth-proxy/cookie-key")
        trips = []
        for _ in range(args.runs):
            start = time.perf_counter()
            client.get_secret_value("oauth-proxy/cookie-key")
            trips.append((time.perf_counter() - start) * 1e3)
    finally:
        server.close()
        shutil.rmtree(folder, True)
    print(f"\n## Cold start of handler.handler: import, configuration and first call (median of {args.runs} "
          f"new processes, the bare interpreter's start subtracted)\n")
    print("| ENCRYPTION_KEY | wall (ms) | timed inside the process (ms) |")
    print("|---|---:|---:|")
    figures = {}
    for (name, warm) in walls:
        figures[name, warm] = med(walls[name, warm]) - med(bare[warm])
        label = {"literal": "literal key", "referenced": "secretsmanager: reference, moto on 127.0.0.1"}[name]
        print(f"| {label}{', runtime-warm' if warm else ''} | {figures[name, warm]:.1f} | "
              f"{med(inner[name, warm]):.1f} |")
    trip = med(trips)
    print(f"| one GetSecretValue round trip to moto, warm process | | {trip:.1f} |")
    print(f"\nPer invocation, nothing due (median of 21 rounds of 20000 calls of handler.handler, GET with a "
          f"cookie): literal key {per_call['literal']:.0f} ns, reference {per_call['referenced']:.0f} ns "
          f"(+{per_call['referenced'] - per_call['literal']:.0f} ns: one clock read and one Python call).")
    print('\n"runtime-warm": `import json, logging` run first (bare included), as the Lambda Python runtime has '
          "done before it imports a handler.")
    for warm in (False, True):
        lit, ref = figures["literal", warm], figures["referenced", warm]
        bound = 1.5 * lit + trip
        print(f"\nTarget{' (runtime-warm)' if warm else ''}: at most 1.5 x {lit:.1f} + one round trip "
              f"{trip:.1f} = {bound:.1f} ms; measured {ref:.1f} ms: {'met' if ref <= bound else 'missed'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
