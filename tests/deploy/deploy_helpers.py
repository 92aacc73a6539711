"""Shared constants and helpers of the deployment checks (tests/deploy)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"
OSLS = NODE_MODULES / "osls" / "bin" / "serverless.js"

# Every variable of the contract, section 3.
CONTRACT_VARIABLES = [
    "TRUSTED_WEB_ORIGINS", "COOKIE_NAME_PREFIX", "ENCRYPTION_KEY",
    "PREVIOUS_ENCRYPTION_KEYS", "ALLOW_TOKEN", "USE_PHANTOM_TOKEN",
    "INTROSPECTION_URL", "CLIENT_ID", "CLIENT_SECRET", "INTROSPECTION_TIMEOUT_MS",
    "INTROSPECTION_CA_FILE", "INTROSPECTION_CACHE_TTL", "INTROSPECTION_CACHE_SIZE",
    "REQUIRED_SCOPES", "HTTP_API_RESPONSE_FORMAT", "LOG_LEVEL",
]

ORIGIN = "https://www.example.com"
PREFIX = "example"


def node_tool_env() -> dict[str, str]:
    """Environment for osls: the shell's, less any AWS profile or credentials
    (nothing here may talk to AWS) and less a .env the developer may have."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k not in CONTRACT_VARIABLES}
    env["SLS_TELEMETRY_DISABLED"] = "1"
    env["SLS_NOTIFICATIONS_MODE"] = "off"
    return env


# osls puts a DependsOn next to a Ref on every authorized method; cfn-lint
# warns that the Ref already orders them. Harmless, and not ours to change.
CFN_LINT_IGNORED = ["W3005"]


def osls_package(osls, tmp_path: Path, config: str, *params: str, env: dict | None = None,
                 cwd: Path = ROOT) -> tuple[subprocess.CompletedProcess, Path]:
    """`osls package` offline into tmp_path/package, with a minimal configuration in the environment."""
    out = tmp_path / "package"
    full_env = node_tool_env()
    full_env.update({"TRUSTED_WEB_ORIGINS": ORIGIN, "COOKIE_NAME_PREFIX": PREFIX,
                     "ENCRYPTION_KEY": "0" * 64,
                     "UPSTREAM_API_URL": "https://api.example.com"})
    full_env.update(env or {})
    cmd = osls + ["package", "--config", config, "--stage", "test",
                  "--package", str(out)] + [f"--param={p}" for p in params]
    proc = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=180)
    return proc, out / "cloudformation-template-update-stack.json"


def osls_render(osls, tmp_path, config, *params, env=None, cwd=ROOT) -> tuple[dict, Path]:
    proc, template = osls_package(osls, tmp_path, config, *params, env=env, cwd=cwd)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(template.read_text()), template


def uncomment_example(text: str, name: str) -> str:
    """The configuration with the commented-out example `name` (between
    `# >>> example: name` and `# <<< example`) switched on."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == f"# >>> example: {name}")
    end = next(i for i in range(start, len(lines)) if lines[i].strip() == "# <<< example")
    for i in range(start + 1, end):
        indent = len(lines[i]) - len(lines[i].lstrip())
        assert lines[i][indent:indent + 2] == "# ", lines[i]
        lines[i] = lines[i][:indent] + lines[i][indent + 2:]
    return "".join(lines)


def cfn_lint(template: Path, ignore: tuple[str, ...] | list[str] = ()) -> None:
    # cfn-lint installs a script, not a runnable module; take the one beside
    # this interpreter (the project's venv).
    exe = Path(sys.executable).parent / "cfn-lint"
    assert exe.exists(), "cfn-lint missing: it is a test dependency (pip install cfn-lint)"
    cmd = [str(exe)] + (["--ignore-checks", *ignore] if ignore else []) + ["--", str(template)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def of_type(template: dict, kind: str) -> dict:
    """{logical id: Properties} of the template's resources of one type."""
    return {k: v["Properties"] for k, v in template["Resources"].items()
            if v["Type"] == kind}


def make_jwt(claims: dict) -> str:
    """An unsigned JWT-shaped token; the authorizer reads claims, the upstream
    API verifies signatures."""
    def part(obj: dict) -> str:
        raw = json.dumps(obj, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def interpreters() -> dict[str, str]:
    """Python 3.10 and later found on this machine, by minor version: the
    abi3 extension built once must load in each (Lambda: 3.12, 3.13)."""
    found = {f"{sys.version_info[0]}.{sys.version_info[1]}": sys.executable}
    candidates = sorted(Path.home().glob(".pyenv/versions/3.*/bin/python3"))
    candidates += [Path(p) for p in (shutil.which(f"python3.{m}") for m in range(10, 20)) if p]
    for exe in candidates:
        version = subprocess.run([str(exe), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                 capture_output=True, text=True, timeout=30).stdout.strip()
        if version and tuple(map(int, version.split("."))) >= (3, 10):
            found.setdefault(version, str(exe))
    return found
