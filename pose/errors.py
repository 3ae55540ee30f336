"""Errors for bad input: one line that names the file and says what is wrong."""

from __future__ import annotations

from pathlib import Path

EXCERPT = 80  # characters of input an error quotes
MESSAGE = 160  # characters of a library's message about a file an error quotes (it may quote the file)
LONGEST_PROBLEM = 1000  # a message that quotes more than its excerpts (a library's) is clipped to this


def excerpt(text: object, limit: int = EXCERPT) -> str:
    """``text`` on one line, clipped to ``limit`` characters with an ellipsis: what an error quotes of
    its input (a header row, a manifest entry, a config value, a question, a library's message about a
    file), so that a whole file read as one "line" never becomes the message."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def quoted(value: object, limit: int = EXCERPT) -> str:
    """``value`` as an error quotes it, like ``repr`` (a string in quotes), clipped as :func:`excerpt` clips."""
    if isinstance(value, str):
        return repr(excerpt(value, limit - 2))
    return excerpt(repr(value), limit)


class InputError(Exception):
    """Bad user input (missing or corrupt file, bad value). ``str()`` is one line for the CLI."""

    def __init__(self, path: str | Path | None, problem: str):
        self.path = None if path is None else str(path)
        self.problem = excerpt(problem, LONGEST_PROBLEM)  # one line, whatever it quotes
        super().__init__(f"{self.path}: {self.problem}" if self.path else self.problem)

    def __reduce__(self):  # rebuilt from (path, problem) when sent back from a worker process
        return self.__class__, (self.path, self.problem)


class VideoError(InputError):
    """The video cannot be opened, decoded or timed."""
