"""synthsign: a deterministic synthetic signing dataset in How2Sign's layout.

A lexicon of signs as motion primitives on the MediaPipe Holistic skeleton (handshape,
orientation, location, movement, one or two hands), sentences from a small ASL-like grammar with
non-literal English references, documents whose topic decides the English of ambiguous signs,
and signer variation (proportions, framing, tempo, landmark noise, lost hand detections, face
motion). ``generate(out_dir, SynthConfig(size="small", seed=1))`` writes poses, metadata and
optionally rendered videos; :func:`load_metadata` reads the per-sentence sidecar back.
"""

from .config import SIZES, SPLITS, SynthConfig
from .generate import SynthSummary, generate, plan
from .metadata import AmbiguityScore, SynthRecord, ambiguous_accuracy, load_manifest, load_metadata
from .vocab import AMBIGUOUS, TOPICS

__all__ = [
    "AMBIGUOUS",
    "SIZES",
    "SPLITS",
    "TOPICS",
    "AmbiguityScore",
    "SynthConfig",
    "SynthRecord",
    "SynthSummary",
    "ambiguous_accuracy",
    "generate",
    "load_manifest",
    "load_metadata",
    "plan",
]
