"""Every dataset SignLLaVA reads, registered (:mod:`.registry`) by importing its module here.

How2Sign's realigned metadata (and synthsign, which writes the same layout), our own manifests, the
original JSALT system's annotation JSON, RWTH-PHOENIX-Weather 2014 T, CSL-Daily, and videos with timed captions
(last: it reads any .vtt/.srt and caption table, so every other dataset's files are recognized first). A new
dataset is a module that registers a :class:`~signllava.data.registry.Dataset` and a line here.
"""

from __future__ import annotations

# isort: off
# importing registers them, in this order (`data list` prints them so)
from . import how2sign, jsalt, phoenix, csl_daily, captions  # noqa: F401

# isort: on
from .registry import DATASETS, Dataset, dataset_named, read_metadata, recognize

__all__ = ["DATASETS", "Dataset", "dataset_named", "read_metadata", "recognize"]
