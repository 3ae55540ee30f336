"""Pose stage of SignLLaVA: video decoding, MediaPipe Holistic extraction to ``.pose`` files,
batch extraction, and the normalized feature views used downstream.

Importing :mod:`pose.holistic` or :mod:`pose.batch` loads MediaPipe; the rest does not.
"""

from .config import ExtractConfig, HolisticConfig, VideoConfig
from .errors import InputError, VideoError
from .io import read_pose, write_pose

__all__ = ["ExtractConfig", "HolisticConfig", "InputError", "VideoConfig", "VideoError", "read_pose", "write_pose"]
