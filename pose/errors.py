"""Errors for bad input: one line that names the file and says what is wrong."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad user input (missing or corrupt file, bad value). ``str()`` is one line for the CLI."""

    def __init__(self, path: str | Path | None, problem: str):
        self.path = None if path is None else str(path)
        self.problem = " ".join(str(problem).split())  # force one line
        super().__init__(f"{self.path}: {self.problem}" if self.path else self.problem)

    def __reduce__(self):  # rebuilt from (path, problem) when sent back from a worker process
        return self.__class__, (self.path, self.problem)


class VideoError(InputError):
    """The video cannot be opened, decoded or timed."""
