"""synthsign's motion: the signs a document's timeline performs are told apart from the poses alone."""

from __future__ import annotations

import numpy as np
from pose_format import Pose
from pose_format.numpy.pose_body import NumPyPoseBody

from pose.config import HolisticConfig
from pose.features import pose_view_208
from pose.holistic import holistic_header
from pose.synth.grammar import SynthSentence
from pose.synth.lexicon import LEXICON_SIGNS
from pose.synth.signer import sample_signer
from pose.synth.timeline import document_motion


def test_signs_are_distinguishable_from_poses_across_signers():
    """1-nearest-neighbour across unseen signers on the 208-value pose view (12 frames per sign),
    body and dominant hand (the resting hand's lost frames, all zeros, would swamp a plain distance)."""
    header = holistic_header(256, 256, HolisticConfig())
    glosses = [s.gloss for s in LEXICON_SIGNS]

    def instances(seed: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(glosses))
        sentence = SynthSentence(tuple(glosses[i] for i in order), "", "test", "party", face=("",) * len(glosses))
        motion = document_motion([sentence], sample_signer(rng, 256, 256), rng, 256, 256)
        pose = Pose(header, NumPyPoseBody(25, motion.data[:, None], motion.confidence[:, None]))
        feats, _ = pose_view_208(pose)
        return {
            glosses[i]: feats[np.linspace(a, b - 1, 12).round().astype(int), :92].ravel()  # body 50 + right hand 42
            for i, (a, b) in zip(order, motion.signs[0], strict=True)
        }

    train = [instances(seed) for seed in range(3)]
    keys = [g for d in train for g in d]
    bank = np.stack([v for d in train for v in d.values()])
    hits = total = 0
    for seed in (100, 101):
        for gloss, v in instances(seed).items():
            hits += keys[int(np.argmin(((bank - v) ** 2).sum(1)))] == gloss
            total += 1
    assert hits / total >= 0.95
