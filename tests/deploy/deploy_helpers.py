"""Shared constants and helpers of the deployment checks (tests/deploy)."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from oauth_proxy.settings import SETTINGS
from oauth_proxy.testing import make_jwt  # noqa: F401 - the deploy tests import it from here

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"
OSLS = NODE_MODULES / "osls" / "bin" / "serverless.js"

# Every variable the authorizer reads (the settings table): each deployment description passes them all to
# the function, so a deployer can set any of them without editing the description.
CONTRACT_VARIABLES = [setting.env for setting in SETTINGS]

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


# The architectures make test builds and runs: this machine's, and arm64 cross-built on x86_64 and run
# under qemu-user with the arm64 CPython of the sysroot scripts/arm64-sysroot makes.
NATIVE_ARCH = {"x86_64": "x86_64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
ARCHES = [NATIVE_ARCH] + (["arm64"] if NATIVE_ARCH == "x86_64" else [])
MACHINE = {"x86_64": "x86_64", "arm64": "aarch64"}
SYSROOT = ROOT / "build" / "arm64-sysroot"


def pythons() -> list[tuple[str, str, list[str]]]:
    """(arch, version, command) of every interpreter the artifacts are run with: each Python 3.10+ of
    this machine, and for a cross-built arm64 the sysroot's, emulated (qemu-aarch64 is looked up on
    PATH when it runs: scripts/arm64-sysroot installs it during the build)."""
    found = [(NATIVE_ARCH, version, [exe]) for version, exe in
             sorted(interpreters().items(), key=lambda kv: tuple(map(int, kv[0].split("."))))]
    if NATIVE_ARCH != "arm64":
        found.append(("arm64", "emulated", ["qemu-aarch64", "-L", str(SYSROOT),
                                            str(SYSROOT / "usr" / "bin" / "python3")]))
    return found



def one_python_per_arch() -> dict[str, list[str]]:
    """For the checks that do not depend on the Python version: this interpreter, and the emulated
    one for a cross-built arch."""
    found = {arch: command for arch, _, command in pythons() if arch != NATIVE_ARCH}
    found[NATIVE_ARCH] = [sys.executable]
    return found


def unzip(archive: Path, dest: Path) -> Path:
    """Unpack as Lambda does, keeping the files' modes (the shared libraries' executable bits)."""
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            z.extract(info, dest)
            mode = info.external_attr >> 16
            if mode:
                os.chmod(dest / info.filename, mode & 0o777)
    return dest


# Runs in a fresh interpreter started with -I -S (no site-packages, no PYTHON* variables, no current
# folder): puts only the given folders on sys.path, as Lambda does with /var/task and /opt/python,
# proves where each named module came from, then feeds the events on stdin to the entry point.
CHILD = r"""
import importlib, json, sys
spec = json.loads(sys.argv[1])
sys.path[:0] = spec["path"]
assert not any("site-packages" in p for p in sys.path), sys.path
for name, folder in spec["origins"].items():
    module = importlib.import_module(name)
    assert module.__file__.startswith(folder + "/"), (name, module.__file__)
module, _, function = spec["entry"].rpartition(".")
entry = getattr(importlib.import_module(module), function)
results = []
for event in json.load(sys.stdin):
    try:
        results.append({"ok": entry(event, None)})
    except Exception as exc:
        results.append({"error": type(exc).__name__, "message": str(exc)})
maps = open("/proc/self/maps").read()
libs = sorted({line.split()[-1] for line in maps.splitlines()
               if "libcurl" in line or "libcrypto" in line})
import os
print(json.dumps({"results": results, "libs": libs, "version": list(sys.version_info[:2]),
                  "machine": os.uname().machine}))
"""


def run_child(python: list[str], path: list[Path], origins: dict[str, Path], entry: str,
              events: list[dict], env: dict[str, str]) -> dict:
    """Run CHILD with `python` (a command: an interpreter, or qemu and an emulated one); the
    environment holds only the configuration given and a minimal PATH."""
    spec = {"path": [str(p) for p in path], "entry": entry,
            "origins": {name: str(folder) for name, folder in origins.items()}}
    child_env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **env}
    proc = subprocess.run([*python, "-I", "-S", "-c", CHILD, json.dumps(spec)],
                          input=json.dumps(events), env=child_env, cwd=path[0],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
