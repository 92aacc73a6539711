"""Instruction counts per request under valgrind's callgrind: reproducible where wall-clock time is noisy.

    .venv/bin/python benchmarks/callgrind.py                       # Ir per request, every case, ours/reference/floor
    .venv/bin/python benchmarks/callgrind.py --annotate "POST opaque"   # plus where ours spends them

Each figure is (Ir of a run with N requests - Ir of the same run with none) / N, so interpreter start, imports
and warm-up cancel out. The --annotate run keeps build/bench/callgrind.<case>.out for callgrind_annotate or
kcachegrind. Build the extension with -g (OAUTH_PROXY_CFLAGS="-g ...") to get line-level detail.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)  # oauth_proxy from the installed package, as in run.py

import run as bench  # noqa: E402

CHILD = r"""
import sys
sys.path[:0] = {paths!r}
import run as bench
evs = bench.events()
case = {case!r}
phantom = case.endswith(", phantom cache hit")
ev = evs[case.split(",")[0]]
extra = {{}}
if phantom:  # every request after the first is answered from the cache
    server = bench.IntrospectionServer(bench.JWT)
    extra = dict(bench.PHANTOM, introspection_url=server.url("keep"), introspection_cache_ttl=300)
if {who!r} == "reference":
    import reference_authorizer
    fn = reference_authorizer.ReferenceAuthorizer([bench.ORIGIN], bench.PREFIX, bench.KEY, **extra).authorize
else:
    import oauth_proxy
    fn = bench.ours_proxy(oauth_proxy, **extra).authorize
for _ in range(200):
    fn(ev)
for _ in range({n}):
    fn(ev)
if phantom:
    server.close()
"""


def callgrind(command, out_file, extra=()):
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", *extra, *command],
                   check=True, capture_output=True, env=dict(os.environ, **bench.BASE_ENV), cwd=HERE)
    with open(out_file) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    raise RuntimeError("no totals in " + out_file)


def per_request_python(who, case, n, keep=None):
    out_dir = os.path.join(ROOT, "build", "bench")
    os.makedirs(out_dir, exist_ok=True)
    counts = []
    for calls in (0, n):
        code = CHILD.format(paths=[HERE], case=case, who=who, n=calls)
        out = keep if (keep and calls) else os.path.join(out_dir, "callgrind.tmp.out")
        # The kept profile counts only inside the C method, so start-up and imports do not drown it.
        extra = ["--toggle-collect=Authorizer_authorize"] if (keep and calls) else []
        counts.append(callgrind([sys.executable, "-c", code], out, extra))
        if keep and calls:
            return counts[-1] / (n + 200)
    return (counts[1] - counts[0]) / n


def per_request_floor(case, n):
    binary = bench.build_floor()
    evs = bench.events()
    out = os.path.join(ROOT, "build", "bench", "callgrind.tmp.out")
    counts = []
    for calls in (1, 1 + n):
        args = bench.floor_args(binary, evs, calls) + [bench.FLOOR_KEYS[case]]
        counts.append(callgrind(args, out))
    return (counts[1] - counts[0]) / n


def annotate(out_file, limit=25):
    if not shutil.which("callgrind_annotate"):
        return "callgrind_annotate not found"
    text = subprocess.run(["callgrind_annotate", "--inclusive=no", out_file], capture_output=True,
                          text=True).stdout
    lines = [line for line in text.splitlines() if re.match(r"\s*[\d,]+ \(", line)]
    incl = subprocess.run(["callgrind_annotate", "--inclusive=yes", out_file], capture_output=True,
                          text=True).stdout
    incl_lines = [line for line in incl.splitlines() if re.match(r"\s*[\d,]+ \(", line)]
    return ("self (exclusive) Ir, top functions:\n" + "\n".join(lines[:limit]) +
            "\n\ninclusive Ir, top functions:\n" + "\n".join(incl_lines[:limit]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="requests per measured run (default 2000)")
    parser.add_argument("--cases", nargs="*", default=list(bench.CASES) + ["GET opaque, phantom cache hit"])
    parser.add_argument("--annotate", metavar="CASE", help="keep and summarise ours' profile of CASE")
    parser.add_argument("--annotate-only", action="store_true", help="skip the table")
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        raise SystemExit("profile.py needs valgrind (apt-get install valgrind)")
    if not args.annotate_only:
        print("| case | floor Ir | ours: authorize Ir | reference Ir | reference / ours | ours / floor |")
        print("|---|---:|---:|---:|---:|---:|")
    for case in ([] if args.annotate_only else args.cases):
        floor = per_request_floor(case.split(",")[0], args.n * 10)
        ours = per_request_python("ours", case, args.n)
        ref = per_request_python("reference", case, max(200, args.n // 5))
        print(f"| {case} | {floor:,.0f} | {ours:,.0f} | {ref:,.0f} | {ref / ours:.1f}x | {ours / floor:.2f}x |",
              flush=True)
    if args.annotate:
        keep = os.path.join(ROOT, "build", "bench", "callgrind." + args.annotate.replace(" ", "_") + ".out")
        inside = per_request_python("ours", args.annotate, args.n, keep=keep)
        print(f"\n{keep}: {inside:,.0f} Ir per request inside Authorizer_authorize "
              f"({args.n} requests + 200 warm-up):\n")
        print(annotate(keep))


if __name__ == "__main__":
    main()
