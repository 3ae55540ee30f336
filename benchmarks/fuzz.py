"""Fuzz every reader of user files for a time budget each, coverage-guided (atheris, libFuzzer's engine).

Each reader of ``tests/fuzz/targets.py`` (``.pose`` files, How2Sign metadata and manifests, PHOENIX-2014T,
CSL-Daily, the JSALT annotations and HDF5 shards, YAML configs, cluster profiles, checkpoints, encoder
checkpoints, exports, frame folders, pickles) runs under libFuzzer in a process of its own
(``python -m tests.fuzz.libfuzzer``): its seeds mutated byte by byte, and, where the format has structure, as
many seconds again on documents a hypothesis strategy draws from libFuzzer's bytes (half the budget each). A
reader may only read the input or refuse it with one ``InputError`` line; anything else is a crash, recorded
once per place in the code with the input that showed it. Then the inputs libFuzzer kept are replayed under
coverage.py: the lines and branches of the reader's modules reached by the seeds alone, against the seeds and
the fuzzer's corpus (the peer: what the seeds the tests already had reach).

    python benchmarks/fuzz.py --seconds 60                  # every reader, 60 s each
    python benchmarks/fuzz.py --seconds 20 --only pose --only checkpoint

Prints a table per reader (executions, libFuzzer's own coverage counters, coverage of the reader's modules by
the seeds and after fuzzing, crashes) and the crashes with where they were raised; everything, inputs included,
stays under ``--out``. Needs ``atheris`` and ``coverage`` (``pip install -e ".[fuzz]"``; atheris installed from
a wheel on the Linux x86-64 machine this was run on; where pip has no wheel it builds it, which needs clang with
libFuzzer). The default tests need neither: they run each target a few hundred times with a seeded mutator.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = [sys.executable, "-m", "tests.fuzz.libfuzzer"]
RESTARTS = 3  # a native crash (a signal, a hang, memory) ends a run: it is recorded and the rest of the time used


def readers() -> dict[str, bool]:
    """Every reader's name, and whether it has a structured strategy (asked of a child: importing the targets
    here would import what they read, before the child instruments it)."""
    code = "from tests.fuzz.targets import TARGETS; import json; "
    code += "print(json.dumps({n: t.strategy is not None for n, t in TARGETS.items()}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _child(args: list[str], log: Path, timeout: float) -> int:
    env = os.environ | {"HF_HUB_OFFLINE": "1", "PYTHONWARNINGS": "ignore"}
    with open(log, "ab") as f:
        try:
            return subprocess.run([*CHILD, *args], cwd=ROOT, stdout=f, stderr=f, env=env, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            return -9


def fuzz_mode(name: str, mode: str, seconds: int, out: Path) -> dict:
    """One mode of one reader for ``seconds``: libFuzzer's counts and the native crashes (restarted after each)."""
    log = out / f"fuzz-{mode}.log"
    log.unlink(missing_ok=True)
    executions, native, crashes, runs = 0, [], {}, 0
    deadline = time.monotonic() + seconds
    while runs <= RESTARTS and (left := int(deadline - time.monotonic())) >= 5:
        start = log.stat().st_size if log.exists() else 0
        flags = ["--mode", mode, "--seconds", str(left), "--seed", str(runs + 1), "--out", str(out)]
        code = _child(["fuzz", name, *flags], log, left + 300)
        text = log.read_bytes()[start:].decode(errors="replace")
        executions += _executions(text)
        _merge(crashes, out / f"stats-{mode}.json")
        runs += 1
        if code == 0:
            break
        native.append(_native(text, code))
    counters = re.findall(r"cov: (\d+) ft: (\d+)", log.read_text(errors="replace"))
    return {
        "executions": executions,
        "cov": counters[-1] if counters else ("?", "?"),
        "crashes": crashes,
        "native": native,
    }


def _merge(crashes: dict, stats: Path) -> None:
    """The crashes of one run (its stats file, removed) into those of the runs before it."""
    if not stats.exists():
        return
    for signature, crash in json.loads(stats.read_text())["crashes"].items():
        if signature in crashes:
            crashes[signature]["count"] += crash["count"]
        else:
            crashes[signature] = crash
    stats.unlink()


def _executions(text: str) -> int:
    found = re.findall(r"stat::number_of_executed_units: (\d+)", text) or re.findall(r"^#(\d+)", text, re.M)
    return int(found[-1]) if found else 0


def _native(text: str, code: int) -> str:
    """What ended a libFuzzer run early, in its own words (a deadly signal, a timeout, out of memory)."""
    found = re.findall(r"==\d+== ERROR: libFuzzer: (.*)", text) or re.findall(r"(Segmentation fault|Killed)", text)
    return found[-1].strip() if found else f"the run exited with {code}"


def coverage(name: str, out: Path, seeds_only: bool) -> dict:
    _child(["replay", name, "--out", str(out), *(["--seeds-only"] if seeds_only else [])], out / "replay.log", 1800)
    report = out / ("coverage-seeds.json" if seeds_only else "coverage.json")
    if not report.exists():
        return {}
    data = json.loads(report.read_text())
    return data["totals"] | {"replayed": data["replayed"]}


def run_reader(name: str, structured: bool, seconds: int, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("stats-*.json"), *out.glob("corpus-*/*")]:
        old.unlink()
    modes = {"bytes": seconds // 2, "structured": seconds - seconds // 2} if structured else {"bytes": seconds}
    result = {"reader": name, "modes": {m: fuzz_mode(name, m, s, out) for m, s in modes.items()}}
    result["seeds"] = coverage(name, out, seeds_only=True)
    result["fuzzed"] = coverage(name, out, seeds_only=False)
    return result


def _pct(part, whole) -> str:
    return f"{part}/{whole} ({100 * part / whole:.0f} %)" if whole else "-"


def table(results: list[dict]) -> str:
    head = "| reader | executions (bytes + structured) | libFuzzer cov / ft | lines: seeds -> fuzzed | "
    head += "branches: seeds -> fuzzed | crashes |\n|---|---|---|---|---|---|"
    rows = [head]
    for r in results:
        modes = r["modes"]
        execs = " + ".join(str(m["executions"]) for m in modes.values())
        cov = " / ".join("/".join(m["cov"]) for m in modes.values())
        s, f = r["seeds"], r["fuzzed"]
        lines = f"{_pct(s.get('covered_lines', 0), s.get('num_statements', 0))} -> "
        lines += _pct(f.get("covered_lines", 0), f.get("num_statements", 0))
        branches = f"{_pct(s.get('covered_branches', 0), s.get('num_branches', 0))} -> "
        branches += _pct(f.get("covered_branches", 0), f.get("num_branches", 0))
        crashes = sum(len(m["crashes"]) + len(m["native"]) for m in modes.values())
        rows.append(f"| {r['reader']} | {execs} | {cov} | {lines} | {branches} | {crashes} |")
    return "\n".join(rows)


def crash_list(results: list[dict]) -> str:
    lines = []
    for r in results:
        for mode, m in r["modes"].items():
            for signature, c in m["crashes"].items():
                lines.append(f"{r['reader']} ({mode}): {signature} x{c['count']}: {c['summary']} [{c['input']}]")
            lines += [f"{r['reader']} ({mode}): native: {why}" for why in m["native"]]
    return "\n".join(lines) or "no crash"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=60, help="fuzzing time per reader (split between its modes)")
    parser.add_argument("--only", action="append", default=[], help="a reader's name (repeat for several)")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "fuzz")
    args = parser.parse_args()
    known = readers()
    unknown = [n for n in args.only if n not in known]
    if unknown:
        parser.error(f"unknown reader(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    results = []
    for name in args.only or known:
        started = time.monotonic()
        results.append(run_reader(name, known[name], args.seconds, args.out / name))
        print(f"{name}: done in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    print(table(results))
    print()
    print(crash_list(results))


if __name__ == "__main__":
    main()
