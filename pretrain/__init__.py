"""Self-supervised sign encoders (DINO on face/hand crops, MAE on the signer, Sign2Vec on poses).

Depends on :mod:`pose`; :mod:`signllava` depends on it. The encoders land with their own issue.
"""

from .features import open_features
from .jsalt import JsaltFeatures, import_jsalt
from .store import FeatureStore, StreamSummary, describe, format_summary
from .store_format import STREAM_DIMS
from .store_writer import ShardWriter

__all__ = [
    "STREAM_DIMS",
    "FeatureStore",
    "JsaltFeatures",
    "ShardWriter",
    "StreamSummary",
    "describe",
    "format_summary",
    "import_jsalt",
    "open_features",
]
