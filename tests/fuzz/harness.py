"""The fuzzing harness every reader's target runs in: what counts as a crash, a byte mutator, and a short
seeded campaign.

A reader passes when every input, however damaged, either reads or ends as one
:class:`~pose.errors.InputError` whose ``str()`` is one line (the CLI prints it as ``error: <file>: <problem>``
and exits 2). Anything else that escapes is a crash: another exception (a traceback for the user), an
InputError of several lines or of a whole file, or a read that "succeeds" on garbage, which a target says by
raising :class:`Garbage` when what the reader returned breaks what its callers rely on.

Two ways to make inputs share one target: bytes of a valid seed mutated (:func:`mutate`, or libFuzzer's
mutator under atheris in ``benchmarks/fuzz.py``), and, where the format has structure, documents drawn from a
hypothesis strategy (JSON, YAML, table rows) and encoded to bytes, so that the fuzzer reaches the reader's
checks of structure and not only its parser. The short campaign (:func:`campaign`) is plain Python with a
fixed seed: the default tests run it, and it needs neither atheris nor coverage.
"""

from __future__ import annotations

import hashlib
import random
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pose.errors import InputError

ONE_LINE = 1200  # the longest error line the bad-input table accepts
OURS = ("/pose/", "/pretrain/", "/signllava/")  # frames of these packages locate a crash


class Garbage(AssertionError):
    """A reader returned something its callers cannot use, and said nothing: a silent success on garbage."""


@dataclass(frozen=True)
class Target:
    """One reader as the CLI reaches it.

    ``read(data, scratch)`` writes ``data`` where the reader looks (a file, or one file of a folder the other
    files of which stay valid) under the scratch folder and reads it through the CLI's entry points;
    ``seeds(scratch)`` are valid inputs; ``modules`` the files of the reader, whose coverage counts;
    ``strategy()`` (optional) a hypothesis strategy of structured inputs, already encoded to bytes;
    ``tokens`` the format's words a byte mutator inserts (delimiters, keywords, numbers at the edges)."""

    name: str
    read: Callable[[bytes, Path], object]
    seeds: Callable[[Path], list[bytes]]
    modules: tuple[str, ...]
    strategy: Callable[[], object] | None = None
    tokens: tuple[bytes, ...] = ()
    doc: str = ""


@dataclass
class Crash:
    """A crash found: where (its signature), what, and the first input that showed it."""

    signature: str
    summary: str
    data: bytes
    trace: str = ""
    count: int = 1


def _location(err: BaseException) -> str:
    """The innermost frame of our packages the exception passed through (else the innermost frame): a crash's
    place, so that the many inputs that show one problem count once."""
    frames = traceback.extract_tb(err.__traceback__)
    ours = [f for f in frames if any(part in f.filename.replace("\\", "/") for part in OURS)]
    frame = (ours or frames or [None])[-1]
    if frame is None:
        return "?"
    parts = Path(frame.filename).parts
    return f"{'/'.join(parts[-2:])}:{frame.lineno}"


def attempt(target: Target, data: bytes, scratch: Path) -> Crash | None:
    """Run ``target`` on one input: None when it read or said one line; the crash otherwise."""
    try:
        target.read(data, scratch)
    except InputError as err:
        text = str(err)
        if "\n" in text or "\r" in text or len(text) > ONE_LINE:
            summary = f"InputError not one line ({len(text)} chars, {text.count(chr(10)) + 1} lines)"
            return Crash(f"{summary.split(' (')[0]} @ {_location(err)}", summary, data, traceback.format_exc())
        return None
    except Exception as err:  # noqa: BLE001 - anything else is what the fuzzer is looking for
        summary = f"{type(err).__name__}: {' '.join(str(err).split())[:200]}"
        return Crash(f"{type(err).__name__} @ {_location(err)}", summary, data, traceback.format_exc())
    return None


# --- a byte mutator (libFuzzer's own is used under atheris) -------------------------------------------------

INTERESTING = (b"\x00", b"\xff", b"\x7f", b"\x80", b"\n", b"\r", b"\t", b'"', b"|", b",", b"-", b" ", b"\xef\xbb\xbf")
NUMBERS = (b"0", b"-1", b"nan", b"inf", b"-inf", b"1e309", b"9" * 30, b"4294967296", b"65535", b"1e-400", b"0x10")


def mutate(data: bytes, rng: random.Random, others: Sequence[bytes] = (), tokens: Sequence[bytes] = ()) -> bytes:
    """``data`` with one to four random edits: bits flipped, bytes set, inserted, deleted, duplicated, the end cut
    off, words of the format (``tokens``) or numbers at the edges put in, or a piece of another seed spliced in."""
    buf = bytearray(data)
    words = (*INTERESTING, *NUMBERS, *tokens)
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(len(buf) + 1)
        op = rng.randrange(9)
        if op == 0 and buf:
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1 and buf:
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif op == 2:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 3 and buf:
            buf[pos : pos + rng.randint(1, 32)] = b""
        elif op == 4 and buf:
            n = rng.randint(1, min(64, len(buf)))
            start = rng.randrange(len(buf) - n + 1)
            buf[pos:pos] = buf[start : start + n] * rng.randint(1, 4)
        elif op == 5 and buf:
            del buf[rng.randrange(len(buf)) :]
        elif op in (6, 7):
            word = rng.choice(words)
            if op == 6 and pos < len(buf):  # overwrite in place
                buf[pos : pos + len(word)] = word
            else:
                buf[pos:pos] = word
        elif op == 8 and others:
            other = rng.choice(others)
            if other:
                start = rng.randrange(len(other))
                buf[pos:] = other[start : start + rng.randint(1, 256)] + bytes(buf[pos:])
    return bytes(buf)


# --- the short campaign the default tests run ---------------------------------------------------------------


@dataclass
class Result:
    """What a campaign did: executions per kind of input, and the crashes by signature."""

    target: str
    executions: int = 0
    structured: int = 0
    crashes: dict[str, Crash] = field(default_factory=dict)

    def add(self, crash: Crash | None) -> None:
        if crash is None:
            return
        if crash.signature in self.crashes:
            self.crashes[crash.signature].count += 1
        else:
            self.crashes[crash.signature] = crash

    def report(self) -> str:
        lines = [f"{self.target}: {len(self.crashes)} crash(es) in {self.executions} executions"]
        for c in self.crashes.values():
            lines += [f"  {c.signature} x{c.count}: {c.summary}", f"    input ({len(c.data)} bytes): {c.data[:300]!r}"]
            lines += ["    " + line for line in c.trace.rstrip().splitlines()[-12:]]
        return "\n".join(lines)


def structured_inputs(target: Target):
    """A function of a fuzzer's bytes that runs ``target`` on the structured input those bytes choose
    (hypothesis's ``fuzz_one_input``: hypothesis reads its choices from the bytes), raising the crash it finds."""
    from hypothesis import HealthCheck, given, settings

    @settings(database=None, deadline=None, suppress_health_check=list(HealthCheck), max_examples=1)
    @given(target.strategy())
    def run(data: bytes) -> None:
        run.scratch.mkdir(parents=True, exist_ok=True)
        crash = attempt(target, data, run.scratch)
        if crash is not None:
            raise _Found(crash)

    return run


class _Found(Exception):
    def __init__(self, crash: Crash):
        super().__init__(crash.signature)
        self.crash = crash


def run_structured(runner, buffer: bytes) -> tuple[bool, Crash | None]:
    """One structured input drawn from ``buffer`` by :func:`structured_inputs`' runner: (whether the bytes made
    an input at all, the crash it showed)."""
    try:
        made = runner.hypothesis.fuzz_one_input(buffer)
    except _Found as found:
        return True, found.crash
    return made is not None, None


def campaign(target: Target, scratch: Path, executions: int, seed: int = 0, structured_share: float = 0.3) -> Result:
    """``executions`` inputs for ``target`` from a fixed ``seed``: each seed file as it is, then seeds mutated
    (:func:`mutate`) and, where the target has a strategy, a ``structured_share`` of structured inputs drawn
    from random bytes. Deterministic for one seed (the same inputs in the same order)."""
    rng = random.Random(seed)
    scratch.mkdir(parents=True, exist_ok=True)
    seeds = target.seeds(scratch / "seeds")
    result = Result(target.name)
    runner = structured_inputs(target) if target.strategy is not None else None
    if runner is not None:
        runner.scratch = scratch / "structured"
    work = scratch / "work"
    for data in seeds:
        crash = attempt(target, data, work)
        if crash is not None:  # a seed must read: a target whose seeds fail finds nothing else
            raise AssertionError(f"{target.name}: a seed does not read:\n{crash.trace}")
        result.executions += 1
    while result.executions < executions:
        if runner is not None and rng.random() < structured_share:
            made, crash = run_structured(runner, rng.randbytes(rng.randint(16, 2048)))
            result.structured += made
        else:
            crash = attempt(target, mutate(rng.choice(seeds), rng, seeds, target.tokens), work)
        result.add(crash)
        result.executions += 1
    return result


def digest(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()[:12]
