"""Reading and atomically writing ``.pose`` files (pose-format's container)."""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from pose_format import Pose

from .errors import MESSAGE, InputError, excerpt

TMP_PREFIX = ".partial-"


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """The hex SHA-256 of a file's content, read in chunks (content-hash cache keys, weight digests)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def usual_permissions(path: str | os.PathLike) -> None:
    """Give a file (0666) or folder (0777) the permissions the umask allows: ``mkstemp``, ``mkdtemp``
    and safetensors create owner-only ones, and a lab shares its runs and stores with the group."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, (0o777 if Path(path).is_dir() else 0o666) & ~mask)


def _file_above(path: Path) -> None:
    """Refuse a path whose nearest existing parent is a file: nothing can be made under it."""
    for parent in path.parents:
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise InputError(parent, f"a file, not a folder: {path} cannot be written inside it")
            return


def output_folder(path: str | os.PathLike) -> Path:
    """``path`` as a folder to write into, refused with one line when a file is in the way (``path``
    itself, or a parent): every command checks its output folders with this before it works, and
    :func:`make_folder` and :func:`atomic_folder` check again where they make them."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(path, "a file is in the way: an output folder goes here (give another path)")
    _file_above(path)
    return path


def output_file(path: str | os.PathLike) -> Path:
    """``path`` as a file to write, refused with one line when it is a folder or a parent is a file
    (:func:`output_folder`'s twin; :func:`atomic_output` checks it too)."""
    path = Path(path)
    if path.is_dir():
        raise InputError(path, "a folder is in the way: an output file goes here (give a file name)")
    _file_above(path)
    return path


def make_folder(path: str | os.PathLike) -> Path:
    """Create an output folder (and its parents) after :func:`output_folder`'s check."""
    path = output_folder(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename.

    A kill or an error leaves the old file (or none), never half a file; the temporary file is
    removed on errors and carries :data:`TMP_PREFIX` so :func:`remove_partials` finds leftovers.
    """
    path = output_file(path)
    make_folder(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX + path.name + ".", dir=path.parent)
    os.close(fd)
    usual_permissions(tmp)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _old(path: Path) -> Path:
    return path.with_name(".old-" + path.name)


def recover_folder(path: str | os.PathLike) -> Path:
    """Undo a swap that :func:`atomic_folder` was killed in the middle of: if ``path`` is missing
    but its previous version is still parked beside it, put that back."""
    path = Path(path)
    if not path.exists() and _old(path).is_dir():
        os.replace(_old(path), path)
    return path


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike, keep_existing: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success it becomes ``path`` (the previous
    folder, if any, is removed only after the new one is in place). An error removes the
    temporary folder; a kill leaves the old folder or the new one, recoverable by
    :func:`recover_folder` in the one instant between the two renames. With ``keep_existing``, a
    folder that appeared meanwhile (another process finished first) is kept and ours discarded."""
    path = output_folder(recover_folder(path))
    make_folder(path.parent)
    tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + path.name + ".", dir=path.parent))
    usual_permissions(tmp)
    try:
        yield tmp
        if path.exists() and keep_existing:
            shutil.rmtree(tmp, ignore_errors=True)
            return
        if path.exists():
            shutil.rmtree(_old(path), ignore_errors=True)
            os.replace(path, _old(path))
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(_old(path), ignore_errors=True)


def write_pose(pose: Pose, path: str | os.PathLike) -> Path:
    """Write ``pose`` to ``path`` atomically: a kill leaves the old file or none, never half a file."""
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        pose.write(f)
        f.flush()
        os.fsync(f.fileno())
    return Path(path)


def read_pose(path: str | os.PathLike, holistic: bool = True) -> Pose:
    """Read a ``.pose`` file; a missing or malformed file raises a one-line InputError.

    ``holistic``: the file is read for the model, so a pose of another skeleton (another tool's, or a
    Holistic with points left out) is refused too, saying what it has and what the model needs
    (:func:`pose.features.holistic_problem`); drawing reads any skeleton (``False``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "pose file not found")
    try:
        pose = Pose.read(path.read_bytes())
    except Exception as err:
        raise InputError(path, f"not a readable .pose file ({type(err).__name__}: {excerpt(err, MESSAGE)})") from err
    _check_rate(pose, path)
    _check_values(pose, path)
    if holistic:
        _check_holistic(pose.header, path)
        if pose.body.data.shape[1] == 0:
            raise InputError(path, "the pose holds no person (its body has 0 people)")
    return pose


def _check_rate(pose: Pose, path: Path) -> float:
    """The pose's frame rate, refused unless a positive number a video could have (as a video's is)."""
    fps = float(pose.body.fps)
    if not (math.isfinite(fps) and 0 < fps <= 1000):
        raise InputError(path, f"damaged .pose file: its frame rate is {excerpt(fps)} fps")
    return fps


# a found landmark this many frame sizes (at least 1000 px) from the origin is damage, not a place in a video
FAR = 1000


def _check_values(pose: Pose, path: Path) -> None:
    """Refuse a pose whose numbers are damaged: a confidence that is no number, or a found landmark (confidence
    above 0) whose coordinate is not a number or lies absurdly far outside the frame. Bytes changed inside a
    file's body read as such values, and the views would turn them into infinities the model trains on."""
    conf = np.asarray(pose.body.confidence)
    values = np.asarray(pose.body.data.data)  # (T, people, points, dims)
    dims = pose.header.dimensions
    limit = FAR * max(dims.width or 0, dims.height or 0, 1000)
    bad_conf = ~np.isfinite(conf)
    bad = bad_conf[..., None] | ((conf > 0)[..., None] & ~(np.abs(values) <= limit))  # NaN compares False
    if not bad.any():
        return
    frame, person, point, _ = np.argwhere(bad)[0]
    names = [f"{c.name} {p}" for c in pose.header.components for p in c.points]
    where = f"frame {frame}, person {person}, {names[point] if point < len(names) else f'point {point}'}"
    what = "a confidence" if bad_conf[frame, person, point] else "a coordinate"
    raise InputError(path, f"damaged .pose file: {where} has {what} that is no number or lies far outside the frame")


def _check_holistic(header, path: Path) -> None:
    from .features import holistic_problem

    problem = holistic_problem(header)
    if problem is not None:
        raise InputError(path, problem)


def pose_seconds(path: str | os.PathLike, holistic: bool = True) -> float:
    """A ``.pose`` file's duration in seconds, from its header and frame count alone (the landmarks
    are skipped, not read: ~5 ms for a 10-minute file where reading it takes ~0.15 s). ``holistic``:
    as for :func:`read_pose`, a skeleton the model cannot read is refused from its header alone."""
    from pose_format.pose_body import EmptyPoseBody

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "pose file not found")
    try:
        with open(path, "rb") as f:
            pose = Pose.read(f, pose_body=EmptyPoseBody)
    except Exception as err:
        raise InputError(path, f"not a readable .pose file ({type(err).__name__}: {excerpt(err, MESSAGE)})") from err
    seconds = len(pose.body.data) / _check_rate(pose, path)
    if holistic:
        _check_holistic(pose.header, path)
    return seconds


def check_pose_file(path: str | os.PathLike) -> Path:
    """Refuse a ``.pose`` file the model cannot read, from its header alone: the first file of a folder
    tells whether another tool made the folder's poses, before a run writes anything."""
    pose_seconds(path)
    return Path(path)


def lock_path(output: str | os.PathLike) -> Path:
    """The lock file of an output: hidden beside it while a run writes it (see :func:`claim`)."""
    output = Path(output)
    return output.with_name(f".{output.name}.lock")


@contextlib.contextmanager
def claim(output: str | os.PathLike) -> Iterator[bool]:
    """Hold the lock of ``output`` for the block if no other process does: ``True`` inside when this one
    holds it, ``False`` (nothing held) when another run is writing that output now.

    Taken without waiting, so two runs writing one folder at once (two ``extract-poses`` on the same
    videos, an array resubmitted while the first still runs) share the work: each skips what the other
    is doing, and should check after taking it whether the output appeared meanwhile. The lock is the
    kernel's (``flock``), so a killed run holds nothing; its file is removed as the holder ends."""
    from filelock import FileLock, Timeout

    path = lock_path(output)
    make_folder(path.parent)
    lock = FileLock(path)
    try:
        lock.acquire(blocking=False)
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        path.unlink(missing_ok=True)  # while still held: a run that opens it later makes a fresh one
        lock.release()


def partial_target(tmp: Path) -> Path:
    """The output a temporary file from :func:`write_pose` was meant to become."""
    name = tmp.name[len(TMP_PREFIX) :]
    return tmp.with_name(name.rsplit(".", 1)[0])


def remove_partials(folder: str | os.PathLike, owned: set[Path] | None = None) -> int:
    """Delete temporary files left by a killed writer under ``folder``; return how many.

    With ``owned``, only partials of those outputs are removed, so concurrent jobs writing other
    outputs into the same folder (a SLURM array) keep theirs; and a partial whose output another run
    holds the lock of (:func:`claim`) is being written now, and is kept too.
    """
    n = 0
    for tmp in Path(folder).rglob(TMP_PREFIX + "*"):
        if not tmp.is_file():  # a folder being written by atomic_folder is not ours to remove
            continue
        target = partial_target(tmp)
        if owned is not None and target not in owned:
            continue
        with claim(target) as mine:
            if mine:
                tmp.unlink(missing_ok=True)
                n += 1
    return n
