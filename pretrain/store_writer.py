"""Writing one job's features into a :mod:`pretrain.store` stream, safely beside other jobs.

Commit protocol of a part (each step atomic on POSIX file systems):
  1. frames go to a dot-prefixed temporary ``.npy`` (readers never look at dot files);
  2. a part number is claimed by creating ``<shard>-<part>.npy`` with ``O_EXCL`` (two writers can
     never get the same one, even with the same shard name), and the data is renamed onto it;
  3. the part index ``<shard>-<part>.json`` is renamed into place: only now do readers see the part.
A job killed before 3 leaves at most an invisible file; an exception inside ``with`` removes it.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from pose.errors import InputError, quoted
from pose.io import TMP_PREFIX, atomic_output, make_folder, usual_permissions

from .store_format import (
    DTYPE,
    FORMAT,
    HEADER_BYTES,
    SHARDS,
    STREAM_DIMS,
    check_name,
    committed_parts,
    read_part_index,
    validate_clip,
)


def npy_header(rows: int, dim: int) -> bytes:
    """The fixed-size .npy header of a float16 ``(rows, dim)`` shard."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": DTYPE.str, "fortran_order": False, "shape": (rows, dim)})
    header = buf.getvalue()
    if len(header) != HEADER_BYTES:  # numpy reserves 21 digits for the first axis, so this holds
        raise RuntimeError(f"unexpected .npy header size {len(header)} for shape ({rows}, {dim})")
    return header


class ShardWriter:
    """Adds clips of one stream as new parts of shard ``shard``; use it as a context manager.

    ``dim`` defaults to the stream's existing dim, else the JSALT dim of a known stream, else the
    first clip's. Clips already committed under the stream (by any job) are in ``existing``; adding
    one is an error, so a resumed job skips them with ``if clip in writer: continue``.
    ``clips_per_part`` commits a part every N clips, so a long job killed midway keeps its progress.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        stream: str,
        shard: str,
        *,
        dim: int | None = None,
        clips_per_part: int | None = None,
    ):
        self.root, self.stream, self.shard = Path(root), check_name("stream", stream), check_name("shard", shard)
        if clips_per_part is not None and clips_per_part < 1:
            raise InputError(None, f"clips_per_part must be at least 1, got {clips_per_part}")
        if dim is not None and dim < 1:
            raise InputError(None, f"stream {quoted(stream)}: dim must be at least 1, got {dim}")
        self.clips_per_part = clips_per_part
        self.dir = self.root / stream / SHARDS
        make_folder(self.dir)
        self._stored: dict[str, str] = {}  # clip -> part, committed before this writer opened
        stream_dim, dim_from = None, None
        for path in committed_parts(self.dir):
            meta = read_part_index(path, stream)
            if stream_dim is None:
                stream_dim, dim_from = meta["dim"], path.stem
            for clip in meta["clips"]:
                self._stored.setdefault(clip, path.stem)
        if dim is not None and stream_dim is not None and dim != stream_dim:
            raise InputError(
                self.dir.parent,
                f"stream {quoted(stream)} has dim {stream_dim} (shard {dim_from}), not the requested {dim}",
            )
        self.dim: int | None = dim or stream_dim or STREAM_DIMS.get(stream)
        self.committed: list[str] = []  # part names this writer committed
        self._added: set[str] = set()  # this writer's clips, committed or pending
        self._pending: dict[str, list[int]] = {}  # clip -> [first row, frames] in the open part
        self._rows = 0
        self._tmp: Path | None = None
        self._file = None

    @property
    def existing(self) -> frozenset[str]:
        """Clips committed under the stream when this writer opened (by any job): skip these."""
        return frozenset(self._stored)

    def __contains__(self, clip: object) -> bool:
        return clip in self._stored or clip in self._added

    def __len__(self) -> int:
        """Clips added through this writer."""
        return len(self._added)

    def add(self, clip: str, features) -> None:
        """Append ``features`` (array-like ``(T, D)``, stored as float16) under ``clip``."""
        if clip in self._stored:
            raise InputError(
                self.dir.parent,
                f"stream {quoted(self.stream)}, clip {quoted(clip)} is already stored in shard {self._stored[clip]}; "
                "skip stored clips (`if clip in writer: continue`)",
            )
        if clip in self._added:
            raise InputError(self.dir.parent, f"stream {quoted(self.stream)}, clip {quoted(clip)} was added twice")
        arr = validate_clip(self.stream, clip, features, self.dim)  # (T, D) float16
        if self.dim is None:
            self.dim = arr.shape[1]
        if self._file is None:
            self._tmp = self._new_temp()
            self._file = open(self._tmp, "r+b")
            self._file.write(b"\0" * HEADER_BYTES)  # the real header goes in at commit, when rows are known
        self._file.write(memoryview(arr).cast("B"))
        self._pending[clip] = [self._rows, arr.shape[0]]
        self._rows += arr.shape[0]
        self._added.add(clip)
        if self.clips_per_part and len(self._pending) >= self.clips_per_part:
            self.commit()

    def _new_temp(self) -> Path:
        fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{self.shard}.", suffix=".npy", dir=self.dir)
        os.close(fd)
        usual_permissions(tmp)  # mkstemp makes 0600; shards are shared with the group
        return Path(tmp)

    def _claim(self) -> str:
        """Reserve the next free part name by creating its .npy exclusively."""
        pattern = re.compile(rf"{re.escape(self.shard)}-(\d+)\.(?:npy|json)")
        taken = [int(m.group(1)) for name in os.listdir(self.dir) if (m := pattern.fullmatch(name))]
        n = max(taken, default=-1) + 1
        while True:
            name = f"{self.shard}-{n:05d}"
            try:
                os.close(os.open(self.dir / f"{name}.npy", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
                return name
            except FileExistsError:
                n += 1  # another writer with the same shard name, or a killed commit's leftover

    def commit(self) -> str | None:
        """Commit the open part (if any clip is pending); returns its name."""
        if self._file is None:
            return None
        f, self._file = self._file, None
        try:
            f.seek(0)
            f.write(npy_header(self._rows, self.dim))
            f.flush()
            os.fsync(f.fileno())
        finally:
            f.close()
        data = None
        try:
            name = self._claim()
            data = self.dir / f"{name}.npy"
            os.replace(self._tmp, data)
            self._tmp = None
            with atomic_output(self.dir / f"{name}.json") as tmp, open(tmp, "w") as out:
                json.dump(self._meta(data.name), out, separators=(",", ":"))
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            if data is not None:
                data.unlink(missing_ok=True)  # the part never became visible: drop its data too
            self.abort()
            raise
        self.committed.append(name)
        self._pending, self._rows = {}, 0
        return name

    def _meta(self, data: str) -> dict:
        return {  # everything a reader needs; "shard" and "rows" are for people
            "format": FORMAT,
            "stream": self.stream,
            "shard": self.shard,
            "dim": self.dim,
            "dtype": DTYPE.str,
            "data": data,
            "header_bytes": HEADER_BYTES,
            "rows": self._rows,
            "clips": self._pending,
        }

    def abort(self) -> None:
        """Discard the open part: its clips are not stored and its temporary file is removed."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None
        self._added -= set(self._pending)
        self._pending, self._rows = {}, 0

    close = commit

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.commit()
        else:
            self.abort()
        return False

    def __del__(self) -> None:
        if getattr(self, "_file", None) is not None:
            self.abort()  # never commit implicitly: an unclosed writer may hold a half-written clip list

    def __repr__(self) -> str:
        return f"ShardWriter({str(self.root)!r}, {self.stream!r}, {self.shard!r}: {len(self._added)} clips added)"
