"""A new library user's first hour, as the docs tell it: a fresh `git clone` (of the committed tree), the
wheel built there (docs/install.md), installed into a new virtualenv of the user's own, the docs' example
authorizer and its tests copied in, and those tests run by that virtualenv's pytest (docs/testing.md,
"Testing your own authorizer").

Two steps differ from a person's, because tests reach no network: `scripts/bootstrap` is not run in the
clone (the build uses this checkout's .venv, which bootstrap made, so the build tools are the same), and
`pip install pytest aws-lambda-powertools` is replaced by linking those distributions, and only those, from
this checkout's .venv into the new one. The package itself comes only from the wheel built in the clone.
"""
from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path

from conftest import REPO

INSTALL_PAGE = REPO / "docs" / "install.md"
TESTING_PAGE = REPO / "docs" / "testing.md"
PLACEHOLDER = "/path/to/oauth-proxy"
# What the docs install from PyPI, linked here instead (with their requirements).
FROM_PYPI = ("pytest", "aws-lambda-powertools")


def sh_blocks(page: Path) -> list[list[str]]:
    text = page.read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    return [[line for line in block.splitlines() if line.strip()] for block in blocks]


def requirements_closure(names) -> list[importlib.metadata.Distribution]:
    seen: dict[str, importlib.metadata.Distribution] = {}
    todo = list(names)
    while todo:
        dist = importlib.metadata.distribution(todo.pop())
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key in seen:
            continue
        seen[key] = dist
        for requirement in dist.requires or []:
            spec, _, marker = requirement.partition(";")
            if "extra" in marker:
                continue
            if marker.strip() and not _marker_holds(marker):
                continue
            todo.append(re.split(r"[\s<>=!~\[(]", spec.strip(), maxsplit=1)[0])
    assert "oauth-proxy-authorizer" not in seen
    return list(seen.values())


def _marker_holds(marker: str) -> bool:
    from packaging.markers import Marker

    return Marker(marker.strip()).evaluate()


def link_distributions(names, site_packages: Path, folder: Path) -> None:
    """The distributions' top-level files and folders, linked into `folder`, which a .pth file puts on the new
    virtualenv's path."""
    folder.mkdir()
    here = Path(sysconfig.get_paths()["purelib"])
    for dist in requirements_closure(names):
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in tops:
            source = here / top
            if source.exists() and not (folder / top).exists() and top != "__pycache__":
                (folder / top).symlink_to(source)
    (site_packages / "from_the_checkout.pth").write_text(f"{folder}\n")


def run(command: str, cwd: Path, env: dict[str, str], timeout: int = 600) -> str:
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, f"{command}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


def test_a_library_user_follows_the_docs(tmp_path):
    clone = tmp_path / "oauth-proxy"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True, timeout=120)
    # No .env, keys or AWS settings of this machine leak into the user's run; PIP_NO_INDEX: no network.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTEST_", "PYTHON"))
           and k not in ("VIRTUAL_ENV", "ENCRYPTION_KEY", "TRUSTED_WEB_ORIGINS", "COOKIE_NAME_PREFIX")}
    env.update({"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})

    # docs/install.md: build the wheel in the clone.
    build = next(block for block in sh_blocks(INSTALL_PAGE) if any("scripts/build_artifact" in l for l in block))
    assert [line.split("#")[0].strip() for line in build] == ["scripts/bootstrap", "scripts/build_artifact"]
    run(f"{shlex.quote(sys.executable)} scripts/build_artifact", clone, env)

    # docs/testing.md: a project of the user's own, with its own virtualenv.
    project = tmp_path / "my-authorizer"
    project.mkdir()
    (steps,) = [block for block in sh_blocks(TESTING_PAGE) if any("python3 -m venv" in l for l in block)]
    base_python = getattr(sys, "_base_executable", sys.executable)
    for step in steps:
        step = step.replace(PLACEHOLDER, str(clone)).replace("x86_64", platform.machine())
        if step.startswith("python3 -m venv"):
            step = step.replace("python3", shlex.quote(base_python), 1)
        if step.startswith(".venv/bin/pip install") and "pytest" in step.split():
            assert set(step.split()[2:]) == set(FROM_PYPI)
            purelib = run(".venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])'",
                          project, env).strip()
            link_distributions(FROM_PYPI, Path(purelib), tmp_path / "linked")
            continue
        out = run(step, project, env)
    assert (project / "app.py").read_text() == (REPO / "examples" / "custom_authorizer" / "app.py").read_text()
    passed = re.search(r"\b(\d+) passed\b", out)
    assert passed and int(passed.group(1)) >= 6 and "failed" not in out and "error" not in out, out

    # The package the tests used is the wheel's, installed in the new virtualenv.
    where = run(".venv/bin/python -c 'import oauth_proxy, importlib.metadata as m; "
                "print(oauth_proxy.__file__, m.version(\"oauth-proxy-authorizer\"))'", project, env)
    assert where.startswith(str(project / ".venv")), where
