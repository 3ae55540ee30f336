"""Self-supervised sign encoders (DINO on face/hand crops, MAE on the signer, Sign2Vec on poses).

Depends on :mod:`pose`; :mod:`signllava` depends on it. Also the home of what every stage trains
with, SignLLaVA's too: the loop (:mod:`pretrain.loop`), the optimizer (:mod:`pretrain.optim`) and
the runtime (:mod:`pretrain.runtime`: device, processes, seeds, checkpoint file names).
"""

from .features import open_features
from .jsalt import JsaltFeatures, import_jsalt
from .store import FeatureStore, StreamSummary, format_summary, summarize
from .store_format import STREAM_DIMS
from .store_writer import ShardWriter

__all__ = [
    "STREAM_DIMS",
    "FeatureStore",
    "JsaltFeatures",
    "ShardWriter",
    "StreamSummary",
    "format_summary",
    "import_jsalt",
    "open_features",
    "summarize",
]
