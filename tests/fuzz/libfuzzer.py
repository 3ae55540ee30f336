"""One reader under atheris (libFuzzer, coverage-guided), and the replay of its corpus under coverage.py.

``benchmarks/fuzz.py`` runs this module once per reader and mode in a process of its own (libFuzzer owns the
process and exits it when its time is up; a native crash ends only that run)::

    python -m tests.fuzz.libfuzzer fuzz NAME --mode bytes --seconds 30 --out DIR
    python -m tests.fuzz.libfuzzer replay NAME --out DIR [--seeds-only]

``fuzz`` mutates the reader's seeds (``--mode bytes``) or draws structured inputs from libFuzzer's bytes through
the reader's hypothesis strategy (``--mode structured``), with our packages and the parsers they call
instrumented so that libFuzzer keeps the inputs that reach new code. A crash (:func:`~tests.fuzz.harness.attempt`)
is recorded, once per signature, in ``DIR/crashes.json`` with its input under ``DIR/crashes/``, and fuzzing goes
on. ``replay`` runs the seeds, or the seeds and every corpus input libFuzzer kept, with coverage.py measuring the
lines and branches of the reader's modules, into ``DIR/coverage[-seeds].json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# our packages, and the small parsers the readers hand bytes to, are instrumented: their branches guide libFuzzer.
# OmegaConf and PyYAML are not: instrumented, they slowed the YAML readers several-fold for branches of theirs
INSTRUMENTED = ["pose", "pretrain", "signllava", "tests.fuzz", "pose_format", "ftfy", "h5py"]
READERS = [
    "pose.io",
    "pose.features",
    "pose.video",
    "pose.config_loader",
    "pose.plain_pickle",
    "signllava.data.datasets",
    "signllava.cluster.profiles",
    "signllava.model.build",
    "signllava.model.checkpoint",
    "signllava.model.hub",
    "pretrain.build",
    "pretrain.features",
    "pretrain.jsalt",
]


def _modules() -> None:
    import importlib

    for name in READERS:
        importlib.import_module(name)


class Recorder:
    """Executions counted and crashes kept (one input per signature) while libFuzzer runs the target."""

    def __init__(self, name: str, mode: str, out: Path):
        from .targets import TARGETS

        self.target = TARGETS[name]
        self.mode, self.out = mode, out
        self.scratch = Path(tempfile.mkdtemp(prefix=f"fuzz-{name}-"))
        self.crashes: dict[str, dict] = {}
        self.executions = self.made = 0
        self.started = self.saved = time.monotonic()
        self.runner = None
        if mode == "structured":
            from .harness import structured_inputs

            self.runner = structured_inputs(self.target)
            self.runner.scratch = self.scratch / "structured"

    def __call__(self, data: bytes) -> None:
        from .harness import attempt, digest, run_structured

        self.executions += 1
        if self.runner is not None:
            made, crash = run_structured(self.runner, data)
            self.made += made
        else:
            crash = attempt(self.target, data, self.scratch / "work")
        if crash is not None:
            entry = self.crashes.setdefault(crash.signature, {"summary": crash.summary, "count": 0})
            entry["count"] += 1
            if entry["count"] == 1:
                (self.out / "crashes").mkdir(parents=True, exist_ok=True)
                entry["input"] = f"crashes/{digest(crash.signature.encode())}-{digest(crash.data)}"
                entry["trace"] = crash.trace[-3000:]
                (self.out / entry["input"]).write_bytes(crash.data)
                self.save()
        if time.monotonic() - self.saved > 1.0:
            self.save()

    def save(self) -> None:
        """Write the counts so far: libFuzzer exits the process without returning, so they are kept as they go."""
        self.saved = time.monotonic()
        stats = {"executions": self.executions, "structured_made": self.made, "crashes": self.crashes}
        tmp = self.out / f"stats-{self.mode}.json.tmp"
        tmp.write_text(json.dumps(stats, indent=1))
        os.replace(tmp, self.out / f"stats-{self.mode}.json")


def fuzz(args) -> None:
    import atheris

    with atheris.instrument_imports(include=INSTRUMENTED):
        _modules()
        from . import harness, targets  # noqa: F401

    out = Path(args.out)
    corpus = out / f"corpus-{args.mode}"
    corpus.mkdir(parents=True, exist_ok=True)
    recorder = Recorder(args.name, args.mode, out)
    seeds = recorder.target.seeds(recorder.scratch / "seeds")
    if args.mode == "bytes":
        from .harness import digest

        for data in seeds:
            (corpus / f"seed-{digest(data)}").write_bytes(data)
    tokens = (out / "tokens.dict").resolve()
    tokens.write_text("".join(f'"{_escape(t)}"\n' for t in recorder.target.tokens) or '"\\x00"\n')
    max_len = max(4096, 2 * max((len(s) for s in seeds), default=0))
    flags = [
        f"-max_total_time={args.seconds}",
        f"-seed={args.seed}",
        f"-max_len={max_len}",
        "-timeout=30",
        "-rss_limit_mb=6144",
        f"-dict={tokens}",
        f"-artifact_prefix={out.resolve()}/artifact-",
        "-print_final_stats=1",
    ]
    atheris.Setup([sys.argv[0], *flags, str(corpus)], recorder)
    atheris.Fuzz()


def _escape(token: bytes) -> str:
    return "".join(chr(b) if 32 <= b < 127 and chr(b) not in '"\\' else f"\\x{b:02x}" for b in token)


def replay(args) -> None:
    """Coverage of the reader's modules by its seeds, or by its seeds and the corpus libFuzzer kept."""
    import coverage

    out = Path(args.out)
    # measured from before our packages are imported, so that their import-time lines count as pytest-cov counts them
    packages = [str(ROOT / p / "*") for p in ("pose", "pretrain", "signllava")]
    cov = coverage.Coverage(branch=True, include=packages, data_file=None)
    cov.start()
    from .harness import attempt, run_structured, structured_inputs
    from .targets import TARGETS

    target = TARGETS[args.name]
    include = [str(ROOT / m) for m in target.modules]
    scratch = Path(tempfile.mkdtemp(prefix=f"replay-{args.name}-"))
    seeds = target.seeds(scratch / "seeds")
    for data in seeds:
        attempt(target, data, scratch / "work")
    runs = len(seeds)
    if not args.seeds_only:
        for data in _corpus(out / "corpus-bytes"):
            attempt(target, data, scratch / "work")
            runs += 1
        if target.strategy is not None and (out / "corpus-structured").is_dir():
            runner = structured_inputs(target)
            runner.scratch = scratch / "structured"
            for data in _corpus(out / "corpus-structured"):
                run_structured(runner, data)
                runs += 1
    cov.stop()
    report = out / ("coverage-seeds.json" if args.seeds_only else "coverage.json")
    cov.json_report(outfile=str(report), include=include)
    data = json.loads(report.read_text())
    data["replayed"] = runs
    report.write_text(json.dumps(data))


def _corpus(folder: Path):
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            yield path.read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["fuzz", "replay"])
    parser.add_argument("name")
    parser.add_argument("--mode", choices=["bytes", "structured"], default="bytes")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seeds-only", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    (fuzz if args.action == "fuzz" else replay)(args)


if __name__ == "__main__":
    main()
