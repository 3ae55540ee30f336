"""Reading pickles someone else may have written, without running their code.

A pickle can name any importable callable and have it called while loading (``os.system``, say), so a
file handed to us is read with an unpickler that imports nothing: :func:`loads_plain` admits plain data
only (numbers, strings, bytes, lists, tuples, dicts, sets, None) and refuses anything else with one line;
``inert=True`` reads every other object as an :class:`Opaque` stand-in instead, for files whose plain
parts are all that is wanted (the outcome of a submitit job, say). Neither calls anything the file names.
"""

from __future__ import annotations

import io
import pickle
import struct
from pathlib import Path

from .errors import MESSAGE, InputError, excerpt


class Opaque:
    """An object the pickle described, not built: the name of what it asked for and nothing else (no code
    of it runs). Each name read gets a subclass, made by :class:`_PlainUnpickler`."""

    name = "?"

    def __new__(cls, *args, **kwargs):  # NEWOBJ and REDUCE call it with the pickle's arguments: ignored
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state) -> None:  # the pickle's BUILD step: the state is not applied
        pass

    def __repr__(self) -> str:
        return f"<{self.name}, not loaded>"


# the unpickler written in Python, not the C one: the C one sizes its memo by the largest index the file names,
# so a few bytes asking to remember object 680,000,000 take gigabytes before anything fails; Python's memo is a
# dict (the files read this way are annotations and job outcomes, read once: its speed is not what counts)
class _PlainUnpickler(pickle._Unpickler):
    def __init__(self, file: io.BytesIO, inert: bool):
        super().__init__(file)
        self.inert = inert
        self.size = len(file.getbuffer())

    def find_class(self, module: str, name: str):
        if not self.inert:
            raise pickle.UnpicklingError(f"it names {module}.{name}, and only plain data is read")
        return type("Opaque", (Opaque,), {"name": f"{module}.{name}"})

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("it refers to objects outside the file")

    def load_bytearray8(self):
        """BYTEARRAY8, its length checked against the file first: the base class makes a zeroed bytearray of the
        length a damaged file declares (gigabytes) before it reads the bytes, which the file does not have."""
        (size,) = struct.unpack("<Q", self.read(8))
        if size > self.size:
            raise pickle.UnpicklingError(f"a bytearray of {size} bytes in a file of {self.size}")
        data = self.read(size)
        if len(data) != size:
            raise pickle.UnpicklingError("the file ends inside a bytearray")
        self.append(bytearray(data))

    dispatch = dict(pickle._Unpickler.dispatch)
    dispatch[pickle.BYTEARRAY8[0]] = load_bytearray8


def loads_plain(data: bytes, path: str | Path, inert: bool = False):
    """The plain data pickled in ``data`` (read from ``path``, which errors name); see the module's doc."""
    try:
        return _PlainUnpickler(io.BytesIO(data), inert).load()
    except pickle.UnpicklingError as err:
        raise InputError(path, f"not read: {excerpt(err, MESSAGE)}") from None
    except Exception as err:  # noqa: BLE001 - nothing of the file's runs, so any other error is its bytes': a
        # damaged pickle raises whatever the opcode it breaks raises (EOFError, OverflowError, RecursionError ...)
        raise InputError(path, f"not a readable pickle ({type(err).__name__}: {excerpt(err, MESSAGE)})") from None
