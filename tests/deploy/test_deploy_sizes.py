"""The sizes docs/deploy/index.md states for the built files hold (within 20%): a figure in the docs cannot
drift far from what scripts/build_artifact writes."""
from __future__ import annotations

import re
import zipfile

import pytest

from .deploy_helpers import ARCHES, ROOT

PAGE = ROOT / "docs" / "deploy" / "index.md"
TOLERANCE = 0.2
MB = 10 ** 6


def documented() -> dict[tuple[str, str, str], float]:
    """(file, arch, "zipped"/"unzipped") -> bytes, from the page's Sizes table."""
    text = PAGE.read_text(encoding="utf-8")
    section = text[text.index("## Sizes\n"):]
    section = section[:section.index("\n## ", 1)]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| file")]
    columns = [(arch, kind) for arch in ("x86_64", "arm64") for kind in ("zipped", "unzipped")]
    figures = {}
    for row in rows:
        name, *cells = [cell.strip() for cell in row.strip("|").split("|")]
        for (arch, kind), cell in zip(columns, cells):
            if cell:
                figures[(name, arch, kind)] = float(re.fullmatch(r"([\d.]+) MB", cell).group(1)) * MB
    return figures


def measured(dist, name: str, arch: str, kind: str) -> int:
    path = {"function zip": dist.function_zip, "layer zip": dist.layer_zip, "wheel": dist.wheel,
            "sdist": dist.sdist}[name](arch)
    if kind == "zipped":
        return path.stat().st_size
    with zipfile.ZipFile(path) as z:
        return sum(info.file_size for info in z.infolist() if ".dist-info/" not in info.filename)


@pytest.mark.parametrize("arch", ARCHES)
def test_documented_sizes_hold(dist, arch):
    figures = {key: value for key, value in documented().items() if key[1] == arch}
    assert {name for name, _, _ in figures} == {"function zip", "layer zip", "wheel", "sdist"}
    for (name, _, kind), stated in figures.items():
        actual = measured(dist, name, arch, kind)
        assert abs(actual - stated) <= TOLERANCE * stated, \
            f"{name} ({arch}, {kind}): {actual / MB:.2f} MB built, {stated / MB:.2f} MB in {PAGE.name}"
