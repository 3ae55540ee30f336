"""Feature store: per stream, per clip float16 features ``(frames, dim)`` in sharded files with an index.

Layout under ``root`` (one folder per stream; parts are immutable once committed)::

    <stream>/shards/<shard>-<part>.npy    float16 (rows, dim): every clip's frames one after another,
                                          a plain .npy, so ``np.load(path, mmap_mode="r")`` reads it
    <stream>/shards/<shard>-<part>.json   the part's index {clip: [first row, frames]}; written last, it
                                          commits the part: a .npy without it is invisible
    <stream>/index.json                   all parts merged (rebuilt by ``open``/``merge`` when stale)

Why this shape: a read is one ``pread`` of the clip's bytes (no whole-shard load, no file per clip on
a cluster file system that chokes on millions of small files); each SLURM array task writes its own
parts, and part numbers are claimed with ``O_EXCL``, so concurrent jobs never overwrite each other.
"""

from __future__ import annotations

import json
import os
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pose.errors import InputError, quoted
from pose.io import TMP_PREFIX, atomic_output

from .store_format import DTYPE, FORMAT, SHARDS, check_name, committed_parts, read_part_index
from .store_writer import ShardWriter

INDEX = "index.json"


@dataclass(frozen=True)
class _Part:
    name: str  # "<shard>-<part>"
    data: Path  # the .npy
    header_bytes: int


@dataclass
class _Index:
    """Clip -> (part, first row, frames) for one stream, in columns (cheap per DataLoader worker)."""

    dim: int | None
    parts: list[_Part]
    pos: dict[str, int]  # clip -> row of the columns below
    part: array
    row: array
    frames: array


def _stamp(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def _scan(stream_dir: Path, stream: str) -> _Index:
    """Merge every committed part index; a clip in two parts or parts of different dims is an error."""
    parts: list[_Part] = []
    pos: dict[str, int] = {}
    owner: list[str] = []
    part, row, frames = array("q"), array("q"), array("q")
    dim, dim_from = None, None
    for path in committed_parts(stream_dir / SHARDS):
        meta = read_part_index(path, stream)
        name = path.stem
        if dim is None:
            dim, dim_from = meta["dim"], name
        elif meta["dim"] != dim:
            raise InputError(
                stream_dir,
                f"stream {quoted(stream)}: shard {dim_from} has dim {dim} but shard {name} has dim {meta['dim']}",
            )
        parts.append(_Part(name, path.with_name(Path(meta["data"]).name), meta["header_bytes"]))  # beside its index
        for clip, (first, n) in meta["clips"].items():
            if clip in pos:
                other = owner[pos[clip]]
                raise InputError(
                    stream_dir,
                    f"stream {quoted(stream)}: clip {quoted(clip)} is in two shards, {other} and {name}; "
                    f"remove one (its .json and .npy under {SHARDS}/)",
                )
            pos[clip] = len(owner)
            owner.append(name)
            part.append(len(parts) - 1)
            row.append(first)
            frames.append(n)
    return _Index(dim, parts, pos, part, row, frames)


def _save_index(stream_dir: Path, stream: str, index: _Index) -> Path:
    """Write the merged index atomically (concurrent writers of it write the same content)."""
    shards = stream_dir / SHARDS
    doc = {
        "format": FORMAT,
        "stream": stream,
        "dim": index.dim,
        "parts": [[p.name, p.data.name, p.header_bytes, *_stamp(shards / f"{p.name}.json")] for p in index.parts],
        "clips": list(index.pos),
        "part": index.part.tolist(),
        "row": index.row.tolist(),
        "frames": index.frames.tolist(),
    }
    with atomic_output(stream_dir / INDEX) as tmp:
        tmp.write_text(json.dumps(doc, separators=(",", ":")))
    return stream_dir / INDEX


def _load_saved(stream_dir: Path, stream: str, current: list[Path]) -> _Index | None:
    """The saved merged index if it lists exactly the committed parts as they are now, else None."""
    try:
        doc = json.loads((stream_dir / INDEX).read_text())
        if doc.get("format") != FORMAT or doc.get("stream") != stream:
            return None
        listed = {name: stamp for name, _, _, *stamp in doc["parts"]}
        if sorted(listed) != [p.stem for p in current] or any(listed[p.stem] != _stamp(p) for p in current):
            return None
        parts = [_Part(n, stream_dir / SHARDS / data, hb) for n, data, hb, *_ in doc["parts"]]
        pos = {clip: i for i, clip in enumerate(doc["clips"])}
        columns = (array("q", doc[key]) for key in ("part", "row", "frames"))
        return _Index(doc["dim"], parts, pos, *columns)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing, stale or damaged: it is derived data, rebuild it


def _pread_copy(fd: int, out: np.ndarray, offset: int) -> int:
    data = os.pread(fd, out.nbytes, offset)
    out.reshape(-1).view(np.uint8)[: len(data)] = np.frombuffer(data, np.uint8)
    return len(data)


def _preadv(fd: int, out: np.ndarray, offset: int) -> int:
    return os.preadv(fd, [out], offset)  # straight into the array, no intermediate bytes


_pread_into = _preadv if hasattr(os, "preadv") else _pread_copy  # preadv: Linux and BSDs


class FeatureStore(Mapping):
    """Read one stream of a feature store: ``store[clip]`` -> float16 ``(T, D)``.

    Files open lazily in each process (a forked DataLoader worker reopens its own), so one store
    object can be handed to a Dataset; it pickles without its file handles.
    """

    def __init__(self, root: Path, stream: str, index: _Index):
        self.root, self.stream, self._index = Path(root), stream, index
        self.dim: int = index.dim or 0
        row_bytes = self.dim * DTYPE.itemsize
        headers = [p.header_bytes for p in index.parts]
        rows = zip(index.part, index.row, strict=True)
        self._offsets = array("q", (headers[p] + r * row_bytes for p, r in rows))  # clip -> byte offset
        self._fds: dict[int, int] = {}
        self._pid = os.getpid()

    # -- opening, writing, merging -------------------------------------------------------------

    @classmethod
    def open(cls, root: str | os.PathLike, stream: str, *, write_index: bool = True) -> FeatureStore:
        """Open ``root/stream``; merges the part indexes when the saved merged index is stale."""
        stream_dir = Path(root) / check_name("stream", stream)
        current = committed_parts(stream_dir / SHARDS)
        if not current:
            raise InputError(
                stream_dir, f"stream {quoted(stream)} has no committed shards (nothing written, or all killed)"
            )
        index = _load_saved(stream_dir, stream, current)
        if index is None:
            index = _scan(stream_dir, stream)
            if write_index:
                try:
                    _save_index(stream_dir, stream, index)
                except OSError:
                    pass  # a read-only copy of the store still opens; it merges in memory each time
        return cls(Path(root), stream, index)

    @staticmethod
    def merge(root: str | os.PathLike, stream: str) -> Path:
        """Rebuild ``root/stream/index.json`` from the committed parts (after a SLURM array finishes)."""
        stream_dir = Path(root) / check_name("stream", stream)
        return _save_index(stream_dir, stream, _scan(stream_dir, stream))

    @staticmethod
    def writer(
        root: str | os.PathLike,
        stream: str,
        shard: str,
        *,
        dim: int | None = None,
        clips_per_part: int | None = None,
    ) -> ShardWriter:
        """A :class:`~pretrain.store_writer.ShardWriter` for one job: ``with ... as w: w.add(clip, x)``."""
        return ShardWriter(root, stream, shard, dim=dim, clips_per_part=clips_per_part)

    @staticmethod
    def streams(root: str | os.PathLike) -> list[str]:
        """Names of the streams under ``root`` (folders with a ``shards/`` folder)."""
        root = Path(root)
        return sorted(p.name for p in root.iterdir() if (p / SHARDS).is_dir()) if root.is_dir() else []

    # -- reading --------------------------------------------------------------------------------

    def _open_fd(self, part: int) -> int:
        if os.getpid() != self._pid:  # forked: the inherited descriptors are the parent's business
            self._drop_fds()
            self._pid = os.getpid()
        path = self._index.parts[part].data
        try:
            fd = self._fds[part] = os.open(path, os.O_RDONLY)
        except OSError as err:
            raise InputError(path, f"cannot open shard data ({err.strerror})") from err
        return fd

    def __getitem__(self, clip: str) -> np.ndarray:
        # the hot path of every DataLoader worker: one dict lookup, one pread into the output array
        index = self._index
        try:
            i = index.pos[clip]
        except (KeyError, TypeError):
            raise KeyError(f"clip {clip!r} is not in stream {self.stream!r} under {self.root}") from None
        part = index.part[i]
        fd = self._fds.get(part) if self._pid == os.getpid() else None
        if fd is None:
            fd = self._open_fd(part)
        out = np.empty((index.frames[i], self.dim), DTYPE)  # (T, D)
        if _pread_into(fd, out, self._offsets[i]) != out.nbytes:
            raise InputError(index.parts[part].data, f"shard data is truncated at clip {quoted(clip)}")
        return out

    read = __getitem__

    def __contains__(self, clip: object) -> bool:
        return clip in self._index.pos

    def __len__(self) -> int:
        return len(self._index.pos)

    def __iter__(self) -> Iterator[str]:
        return iter(self._index.pos)

    def clips(self) -> list[str]:
        """Every clip name, in the order they were committed (per part)."""
        return list(self._index.pos)

    def frames(self, clip: str) -> int:
        """Number of frames of ``clip``, without reading its features."""
        try:
            return self._index.frames[self._index.pos[clip]]
        except KeyError:
            raise KeyError(f"clip {clip!r} is not in stream {self.stream!r} under {self.root}") from None

    @property
    def total_frames(self) -> int:
        return sum(self._index.frames)

    @property
    def shards(self) -> list[str]:
        """Committed part names (``<shard>-<part>``)."""
        return [p.name for p in self._index.parts]

    @property
    def nbytes(self) -> int:
        """Bytes of shard data on disk."""
        return sum(p.data.stat().st_size for p in self._index.parts)

    # -- process hygiene ------------------------------------------------------------------------

    def _drop_fds(self) -> None:
        for fd in self._fds.values():
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = {}

    def close(self) -> None:
        self._drop_fds()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_fds"] = {}  # descriptors do not travel; the receiving process opens its own
        return state

    def __del__(self) -> None:
        try:
            if self._pid == os.getpid():
                self._drop_fds()
        except Exception:  # half-built object or interpreter shutdown: the OS closes them anyway
            pass

    def __repr__(self) -> str:
        return f"FeatureStore({str(self.root)!r}, {self.stream!r}: {len(self)} clips, dim {self.dim})"

    __eq__ = object.__eq__  # Mapping's __eq__ would read every clip
    __hash__ = object.__hash__


@dataclass(frozen=True)
class StreamSummary:
    """One stream of a store, for ``summarize``."""

    stream: str
    clips: int
    frames: int
    dim: int | None
    shards: int  # committed parts
    bytes: int  # shard data on disk
    leftovers: int  # files of killed writers (temporary or uncommitted); safe to delete when no job runs


def summarize(root: str | os.PathLike) -> list[StreamSummary]:
    """Per stream: clips, total frames, dim, shards and bytes (reads only the indexes)."""
    out = []
    for stream in FeatureStore.streams(root):
        stream_dir = Path(root) / stream
        shards = stream_dir / SHARDS
        current = committed_parts(shards)
        index = (_load_saved(stream_dir, stream, current) or _scan(stream_dir, stream)) if current else None
        committed = {p.data.name for p in index.parts} if index else set()
        files = [p for p in shards.iterdir() if p.suffix != ".json" or p.name.startswith(TMP_PREFIX)]
        out.append(
            StreamSummary(
                stream=stream,
                clips=len(index.pos) if index else 0,
                frames=sum(index.frames) if index else 0,
                dim=index.dim if index else None,
                shards=len(current),
                bytes=sum((shards / name).stat().st_size for name in committed),
                leftovers=sum(p.name not in committed for p in files),
            )
        )
    return out


def format_summary(summaries: list[StreamSummary]) -> str:
    """``summarize`` as a small aligned table for the CLI."""
    lines = [f"{'stream':<12} {'clips':>9} {'frames':>12} {'dim':>6} {'shards':>7} {'GB':>9}"]
    for s in summaries:
        dim = "-" if s.dim is None else str(s.dim)
        line = f"{s.stream:<12} {s.clips:>9} {s.frames:>12} {dim:>6} {s.shards:>7} {s.bytes / 1e9:>9.3f}"
        lines.append(line + (f"  ({s.leftovers} leftover files of killed writers)" if s.leftovers else ""))
    return "\n".join(lines)
