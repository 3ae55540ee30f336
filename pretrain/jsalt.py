"""The original JSALT 2024 SignLLaVA feature layout: read it in place, or import it into our store.

Per stream and split: HDF5 shards ``[<dataset>.]<stream>.<split>.<n>.h5`` holding
``{video_id: {clip_name: float16 (T, D)}}`` (a group per video, a dataset per clip), and often a
JSON index video_id -> shard number n, named ``<dataset>.<stream>.<split>.json`` or, as the
original's scripts write it, ``metadata_<stream>.<split>.json``. Without an index, the shards
beside the one given are the index.

Clip names are unique only within their video (the original's own sample data names them
``clip_1``, ``clip_2`` ... in every video), so a clip's key is :func:`clip_key` ``video/clip``: its
path inside the HDF5 file, unambiguous because HDF5 names cannot contain ``/``. The same key names
the clip in an imported store and the sentence read from the original's annotation JSON
(:mod:`signllava.data.jsalt`). A bare clip name also reads a clip when no other video has one of
that name (How2Sign's clips are named by their globally unique SENTENCE_NAME).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from pose.errors import MESSAGE, InputError, excerpt, quoted
from pose.io import output_folder

from .store_format import DTYPE
from .store_writer import ShardWriter


def _h5py():
    try:
        import h5py
    except ImportError as err:  # only this layout needs it
        raise InputError(None, "reading the JSALT HDF5 layout needs h5py: pip install h5py") from err
    return h5py


def clip_key(video: str, clip: str) -> str:
    """The key of clip ``clip`` of video ``video``, in this reader, an imported store and the annotations."""
    return f"{video}/{clip}"


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _open_h5(file: Path):
    """An HDF5 shard opened for reading; a file that is not one is named in one line."""
    try:
        return _h5py().File(file, "r")
    except OSError as err:
        why = (
            excerpt(str(err).rsplit("(", 1)[-1].rstrip(")"), MESSAGE) or type(err).__name__
        )  # h5py: "Unable to ... (why)"
        raise InputError(file, f"not a readable HDF5 feature shard ({why})") from None


@contextlib.contextmanager
def _damage_named(file: Path, what: str = "") -> Iterator[None]:
    """Errors h5py raises inside a shard it opened (a damaged object header, B-tree or chunk: RuntimeError,
    OSError, KeyError ... by which structure broke; a dtype that is no number) as one line naming the file."""
    try:
        yield
    except InputError:
        raise
    except Exception as err:  # noqa: BLE001 - h5py's type says which structure of the file broke, not that it did
        why = excerpt(str(err) or type(err).__name__, MESSAGE)
        raise InputError(file, f"{what}a damaged HDF5 feature shard ({type(err).__name__}: {why})") from None


def _kind(obj) -> str:
    """What an HDF5 object that should be a clip's dataset is instead."""
    if obj is None:
        return "a link to nothing"
    return "a group" if hasattr(obj, "keys") else f"a {type(obj).__name__}"


def read_index(path: Path) -> dict[str, int]:
    """A JSON index ``{video_id: shard number}``; one line for anything else. A shard number is a whole number
    from 0 (or its digits, as text): 2.5, -1, true or Infinity name no shard file."""
    what = "not a JSALT index {video_id: shard number}"
    try:
        index = json.loads(path.read_bytes())
    except (ValueError, RecursionError) as err:  # bad JSON, not UTF-8, an integer of too many digits, too deep
        raise InputError(path, f"{what} ({excerpt(err, MESSAGE)})") from None
    if not isinstance(index, dict):
        raise InputError(path, f"{what} (a JSON {type(index).__name__})")
    numbers = {}
    for video, n in index.items():
        if isinstance(n, str) and n.isascii() and n.isdigit():
            n = int(n)
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise InputError(path, f"{what}: video {quoted(video)} has shard number {excerpt(json.dumps(n))}")
        numbers[video] = n
    return numbers


def _locate(path: Path) -> tuple[Path | None, dict[int, Path]]:
    """The JSON index (if any) and the shard files ``{n: path}`` for a .json or one .h5 given."""
    if not path.is_file():
        raise InputError(path, "not found (expected a JSALT .json index or .h5 feature shard)")
    if path.suffix == ".json":
        numbers = set(read_index(path).values())
        prefix = path.with_suffix("")
        if path.name.startswith("metadata_") and not Path(f"{prefix}.{min(numbers, default=0)}.h5").is_file():
            prefix = prefix.with_name(prefix.name.removeprefix("metadata_"))  # as the original's scripts name it
        return path, {n: Path(f"{prefix}.{n}.h5") for n in sorted(numbers)}
    stem, _, number = path.stem.rpartition(".")
    if not number.isdigit():  # a lone file: read all of it
        return None, {0: path}
    prefix = path.with_name(stem)
    index = Path(f"{prefix}.json")
    if index.is_file():
        return _locate(index)
    found = {}
    for p in path.parent.glob(f"{_glob_escape(stem)}.*{path.suffix}"):
        n = p.stem.rpartition(".")[2]
        if n.isdigit():
            found[int(n)] = p
    return None, dict(sorted(found.items()))


def _datasets(f, videos: list[str]) -> Iterator[tuple[str, object]]:
    """(key, HDF5 object) for each clip of ``videos``; a video stored as one dataset is one clip."""
    for video in videos:
        _text_name(f, video)
        group = f.get(video)
        if group is None:
            raise InputError(
                f.filename, f"video {quoted(video)} is indexed in this shard but the file has no such group"
            )
        if hasattr(group, "items"):
            for clip, ds in group.items():
                yield clip_key(video, _text_name(f, clip)), ds
        else:
            yield video, group


def _text_name(f, name) -> str:
    """An HDF5 group or dataset name as text: h5py gives the bytes of a name that is not UTF-8, which would key a
    clip by its ``b'...'`` spelling (no annotation or metadata names it so)."""
    if not isinstance(name, str):
        raise InputError(
            f.filename, f"the HDF5 name {excerpt(repr(name))} is not UTF-8 text: no clip can be named by it"
        )
    return name


class JsaltFeatures(Mapping):
    """Read-only JSALT-layout features with the :class:`~pretrain.store.FeatureStore` read API.

    Clips are keyed ``video/clip`` (:func:`clip_key`); a bare clip name that only one video has reads
    too. Opening lists every video group once to map key -> (shard, frames); HDF5 files are then
    opened lazily in each process (HDF5 handles must not cross a fork).
    """

    def __init__(self, name: str, files: dict[int, Path], clips: dict[str, tuple[int, str, int]], dim: int):
        self.name, self.dim = name, dim
        self._paths = files
        self._clips = clips  # key -> (shard number, HDF5 path "/video/clip", frames)
        named: dict[str, list[str]] = {}
        for key in clips:
            named.setdefault(key.rpartition("/")[2], []).append(key)
        self._bare = {clip: keys[0] for clip, keys in named.items() if len(keys) == 1 and clip not in clips}
        self._files: dict = {}
        self._pid = os.getpid()

    @property
    def stream(self) -> str | None:
        """The stream part of ``<dataset>.<stream>.<split>`` or ``<stream>.<split>``, when the name has that form."""
        parts = self.name.split(".")
        return parts[-2] if len(parts) in (2, 3) else None

    def _key(self, clip: object) -> str | None:
        if clip in self._clips:
            return clip
        return self._bare.get(clip) if isinstance(clip, str) else None

    @classmethod
    def open(cls, path: str | os.PathLike) -> JsaltFeatures:
        """Open from the ``.json`` index, or from one ``.h5`` shard (its siblings are found)."""
        h5py = _h5py()
        path = Path(path)
        index_path, files = _locate(path)
        index = read_index(index_path) if index_path else None
        clips: dict[str, tuple[int, str, int]] = {}
        where: dict[str, str] = {}  # clip -> "file:video/clip", for error messages
        dim, dim_from = None, None
        for n, file in files.items():
            if not file.is_file():
                raise InputError(index_path or path, f"shard {n} is indexed but {file} does not exist")
            with _open_h5(file) as f, _damage_named(file):
                videos = [v for v, s in index.items() if s == n] if index else list(f.keys())
                for key, ds in _datasets(f, videos):
                    here = f"{file.name}:{key}"
                    if key in where:  # the same video in two shards
                        raise InputError(file, f"clip {quoted(key)} is stored twice: {where[key]} and {here}")
                    shape = ds.shape if isinstance(ds, h5py.Dataset) else None  # None too for an empty dataspace
                    if shape is None or len(shape) != 2:
                        what = f"shape {shape}" if isinstance(ds, h5py.Dataset) else _kind(ds)
                        raise InputError(file, f"{here} is not a 2-D (frames, dim) dataset ({what})")
                    if dim is None:
                        dim, dim_from = shape[1], here
                    elif shape[1] != dim:
                        raise InputError(file, f"{here} has dim {shape[1]} but {dim_from} has dim {dim}")
                    where[key] = here
                    clips[key] = (n, ds.name, shape[0])
        if not clips:
            raise InputError(path, "no features found in the JSALT layout")
        stem, _, number = path.stem.rpartition(".")
        name = index_path.stem.removeprefix("metadata_") if index_path else stem if number.isdigit() else path.stem
        return cls(name, files, clips, dim)

    def _file(self, n: int):
        if os.getpid() != self._pid:  # forked: never use the parent's HDF5 handles
            self._files, self._pid = {}, os.getpid()
        f = self._files.get(n)
        if f is None:
            f = self._files[n] = _open_h5(self._paths[n])
        return f

    def _entry(self, clip: str) -> tuple[int, str, int]:
        key = self._key(clip)
        if key is None:
            raise KeyError(f"clip {clip!r} is not in {self.name} (clips are named video/clip)")
        return self._clips[key]

    def __getitem__(self, clip: str) -> np.ndarray:
        n, h5path, _ = self._entry(clip)
        with _damage_named(self._paths[n], f"clip {quoted(clip)}: "):
            return np.asarray(self._file(n)[h5path][()]).astype(DTYPE, copy=False)  # (T, D)

    read = __getitem__

    def __contains__(self, clip: object) -> bool:
        return self._key(clip) is not None

    def __len__(self) -> int:
        return len(self._clips)

    def __iter__(self) -> Iterator[str]:
        return iter(self._clips)

    def clips(self) -> list[str]:
        """Every clip's key ``video/clip``."""
        return list(self._clips)

    def frames(self, clip: str) -> int:
        """Number of frames of ``clip`` (from the dataset shape, read once on open)."""
        return self._entry(clip)[2]

    def video(self, clip: str) -> str:
        """The video id ``clip`` is stored under."""
        return self._entry(clip)[1].strip("/").split("/")[0]

    @property
    def total_frames(self) -> int:
        return sum(c[2] for c in self._clips.values())

    @property
    def shards(self) -> list[str]:
        return [p.name for p in self._paths.values()]

    @property
    def nbytes(self) -> int:
        return sum(p.stat().st_size for p in self._paths.values())

    def close(self) -> None:
        if self._pid == os.getpid():
            for f in self._files.values():
                f.close()
        self._files = {}

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_files"] = {}
        return state

    def __repr__(self) -> str:
        return f"JsaltFeatures({self.name!r}: {len(self)} clips, dim {self.dim})"

    __eq__ = object.__eq__  # Mapping's __eq__ would read every clip
    __hash__ = object.__hash__


def import_jsalt(
    path: str | os.PathLike,
    dst_root: str | os.PathLike,
    stream: str,
    *,
    shard: str | None = None,
    clips_per_part: int | None = 2000,
) -> int:
    """Copy JSALT-layout features (``path``: the .json index or an .h5 shard) into ``dst_root/stream``,
    each clip under its key ``video/clip`` (:func:`clip_key`).

    Resumable: clips already in the destination stream are skipped, and a part is committed every
    ``clips_per_part`` clips. Returns the number of clips written.
    """
    output_folder(dst_root)  # a file in the way is said before the source is read
    src = JsaltFeatures.open(path)
    shard = shard or re.sub(r"[^A-Za-z0-9_.+-]", "_", f"jsalt.{src.name}")
    order = sorted(src.clips(), key=lambda c: src._clips[c][:2])  # file by file, group by group
    written = 0
    try:
        with ShardWriter(dst_root, stream, shard, dim=src.dim, clips_per_part=clips_per_part) as w:
            for clip in order:
                if clip not in w:
                    w.add(clip, src[clip])
                    written += 1
    finally:
        src.close()
    return written
