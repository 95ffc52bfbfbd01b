"""Runs every benchmark of the platform core and writes bench/results/latest.md.

    make bench        (or: .venv/bin/python bench/run_all.py [--quick])

Each benchmark prints its figures next to a reference measured in the same run; nothing
here is a pass/fail test. docs/benchmarks.md records the figures of one such run.
"""

import argparse
import datetime
import json
import subprocess
import sys
import time
import traceback

import page_weight
import pages
import point_lookup
from _common import RESULTS_DIR, ROOT, machine, table


def code_version() -> str:
    """The commit measured, and whether files outside bench/ differed from it."""

    def git(*args):
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return out.stdout.strip() if out.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "not a git checkout"
    changed = [
        line[3:]
        for line in git("status", "--porcelain", "--untracked-files=no").splitlines()
        if not line[3:].startswith(("bench/", "docs/benchmarks.md"))
    ]
    if not changed:
        return f"commit {commit}"
    return f"commit {commit} plus uncommitted changes to {len(changed)} tracked file(s)"


def log(message):
    print(message, file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, to try the scripts")
    args = parser.parse_args()
    duration, rounds = (3, 1) if args.quick else (10, 3)

    started = datetime.datetime.now().astimezone()
    with open("/proc/loadavg") as f:
        load_before = f.read().split()[:3]
    sections, failures, raw = [], [], {}
    benchmarks = [
        ("point lookup", lambda: point_lookup.run()),
        ("pages", lambda: pages.run(duration=duration, rounds=rounds, log=log)),
        ("page weight", lambda: page_weight.run(log=log)),
    ]
    for name, bench in benchmarks:
        log(f"== {name}")
        t0 = time.perf_counter()
        try:
            result = bench()
            sections.append(result["markdown"])
            raw[name] = {k: v for k, v in result.items() if k != "markdown"}
        except Exception:  # noqa: BLE001 — report and go on with the other benchmarks
            failures.append(name)
            sections.append(f"## {name}\n\n**Failed:**\n\n```\n{traceback.format_exc()}```")
        log(f"   {name}: {time.perf_counter() - t0:.0f} s")
    with open("/proc/loadavg") as f:
        load_after = f.read().split()[:3]

    header = [
        "# Benchmarks of the platform core",
        "",
        f"Run on {started:%Y-%m-%d %H:%M %Z} by `make bench` "
        f"({(datetime.datetime.now().astimezone() - started).seconds // 60} min). "
        f"Load average (1/5/15 min) before: {' / '.join(load_before)}, after: "
        f"{' / '.join(load_after)}. Code: {code_version()}.",
        "",
        table(["Machine", ""], [[k, v] for k, v in machine()], align="ll"),
    ]
    text = "\n\n".join(["\n".join(header), *sections]) + "\n"
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "latest.md").write_text(text, encoding="utf-8")
    (RESULTS_DIR / "latest.json").write_text(json.dumps(raw, indent=1, default=str))
    print(text)
    log(f"Written to {RESULTS_DIR / 'latest.md'}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
