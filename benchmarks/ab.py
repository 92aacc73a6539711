"""Two or more builds of oauth_proxy._core side by side in one process, interleaved: for judging a hot-path
patch by time, next to the OpenSSL floor, on the benchmark events and on variants of the POST opaque event.

    .venv/bin/python benchmarks/ab.py patched=/path/to/other/_core.abi3.so [--rounds 21]

The first build is the installed one (`make build`). Each .so is loaded under its own module name, so the
builds do not share state. Figures are medians over rounds; "/ first" is the median of per-round ratios.
"""
import argparse
import glob
import importlib.util
import os
import random
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run as bench  # noqa: E402


def load(path, name):
    spec = importlib.util.spec_from_file_location(name + "._core", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def installed_core():
    spec = importlib.util.find_spec("oauth_proxy")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("ab.py: oauth_proxy is not installed; run `make build`")
    found = glob.glob(os.path.join(spec.submodule_search_locations[0], "_core*.so"))
    if not found:
        raise SystemExit("ab.py: the installed oauth_proxy has no compiled _core")
    return found[0]


def events():
    evs = dict(bench.events())
    full = evs["POST opaque"]
    e = dict(full, multiValueHeaders=None)
    evs["POST opaque, multiValueHeaders null"] = e
    e = dict(full, multiValueHeaders=None,
             headers={k: v for k, v in full["headers"].items() if k in ("Origin", "Cookie", f"x-{bench.PREFIX}-csrf")})
    evs["POST opaque, only Origin, Cookie and the CSRF header"] = e
    evs["POST opaque, HTTP API 2.0 simple"] = bench.make_event("POST", bench.OPAQUE, version="2.0")
    return evs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("builds", nargs="+", metavar="NAME=PATH", help="other builds of _core to compare")
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    builds = {"installed": installed_core()}
    for item in args.builds:
        name, _, path = item.partition("=")
        builds[name] = path
    authorizers = {}
    for name, path in builds.items():
        core = load(path, name.replace("-", "_"))
        authorizers[name] = core.Authorizer(trusted_origins=[bench.ORIGIN], cookie_name_prefix=bench.PREFIX,
                                            keys=[bench.KEY], allow_token=False, required_scopes=[],
                                            simple_responses=True, on_deny=lambda *a: None)
    evs = events()
    first = next(iter(authorizers.values()))
    for case, ev in evs.items():
        for name, authorizer in authorizers.items():
            if authorizer.authorize(ev) != first.authorize(ev):
                raise SystemExit(f"ab.py: {name} answers {case} differently from the installed build")
    samples = {(name, case): [] for name in authorizers for case in evs}
    floor = bench.floor_args(bench.build_floor(), bench.events(), 20000)
    floor_samples = []
    order = list(samples)
    rng = random.Random(3)
    for _ in range(args.rounds):
        rng.shuffle(order)
        for name, case in order:
            samples[(name, case)].append(bench.time_batch(authorizers[name].authorize, evs[case], 10000))
        floor_samples.append(bench.run_floor(floor)["post_opaque"])
    floor_ns = statistics.median(floor_samples)
    names = list(authorizers)
    print(f"OpenSSL floor, POST opaque: {floor_ns:.0f} ns (median of {args.rounds})\n")
    print("| event | " + " | ".join(f"{n} (ns) | {n} / floor" + ("" if i == 0 else f" | {n} / {names[0]}")
                                     for i, n in enumerate(names)) + " |")
    print("|---|" + "|".join("---:|---:" + ("" if i == 0 else "|---:") for i in range(len(names))) + "|")
    for case in evs:
        cells = []
        for i, name in enumerate(names):
            ns = statistics.median(samples[(name, case)])
            cells.append(f"{ns:.0f} | {ns / floor_ns:.2f}x" if case.startswith("POST opaque") else f"{ns:.0f} | ")
            if i:
                cells[-1] += f" | {bench.paired(samples[(name, case)], samples[(names[0], case)]):.3f}"
        print(f"| {case} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
