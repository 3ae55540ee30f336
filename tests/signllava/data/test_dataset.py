from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from pose.errors import InputError
from signllava.data.dataset import FeatureSource, SignCollator, SignDataset
from signllava.data.how2sign import Sentence
from signllava.data.tasks import TaskBuilder, TaskWeights


def sentences(n: int = 6) -> list[Sentence]:
    return [
        Sentence(
            "v",
            "v-1",
            f"v_{i}",
            f"v_{i}-1",
            i * 1.0,
            i * 1.0 + 0.4 + 0.1 * i,
            f"sentence {i} words.",
            glosses=("A", f"G{i}"),
        )
        for i in range(n)
    ]


def clip_store(sents, dim, seed=0):
    rng = np.random.default_rng(seed)
    return {s.sentence_name: rng.standard_normal((3 + i, dim)).astype(np.float16) for i, s in enumerate(sents)}


def test_items_and_padding():
    sents = sentences()
    ds = SignDataset(
        sents,
        {"pose": FeatureSource(clip_store(sents, 208)), "mae": FeatureSource(clip_store(sents, 8))},
        translation_only=True,
    )
    batch = SignCollator(pad_to_multiple_of=4)([ds[0], ds[3], ds[5]])
    assert batch["streams"]["pose"].shape == (3, 8, 208) and batch["streams"]["mae"].shape == (3, 8, 8)
    assert batch["stream_mask"]["pose"].sum(1).tolist() == [3, 6, 8]
    assert batch["streams"]["pose"].dtype == torch.float16  # stored precision; the model casts
    assert not batch["streams"]["pose"][0, 3:].any()  # padding is zero
    assert [t.answer for t in batch["tasks"]] == ["sentence 0 words.", "sentence 3 words.", "sentence 5 words."]
    assert batch["glosses"] == [("A", "G0"), ("A", "G3"), ("A", "G5")]
    assert batch["tasks"][3 - 2].context == ("sentence 0 words.", "sentence 1 words.", "sentence 2 words.")


def test_full_video_features_are_cut_by_realigned_times():
    sents = sentences(3)
    video = np.arange(100 * 2, dtype=np.float32).reshape(100, 2)  # 10 fps, 10 s
    ds = SignDataset(sents, {"pose": FeatureSource({"v-1": video}, per_video_fps=10)}, translation_only=True)
    item = ds[2]  # 2.0 - 2.6 s -> frames 20..25
    np.testing.assert_array_equal(item["streams"]["pose"].numpy(), video[20:26])


def test_reversed_task_flips_every_stream():
    sents = sentences(4)
    store = clip_store(sents, 5)
    only_reversed = TaskWeights(translate=0, sign_present=0, signs_present=0, reversed=1)
    ds = SignDataset(sents, {"pose": FeatureSource(store)}, TaskBuilder(sents, weights=only_reversed, seed=2))
    flips = 0
    for epoch in range(4):
        ds.set_epoch(epoch)
        for i, s in enumerate(sents):
            item = ds[i]
            expected, glosses = store[s.sentence_name].astype(np.float32), s.glosses
            if item["task"].reversed:
                expected, glosses, flips = expected[::-1], glosses[::-1], flips + 1
            np.testing.assert_array_equal(item["streams"]["pose"].numpy(), expected)
            assert item["glosses"] == glosses  # the CTC targets follow the order shown
    assert 0 < flips < 16


def test_missing_features_are_named():
    sents = sentences(2)
    ds = SignDataset(sents, {"dino": FeatureSource({})}, translation_only=True)
    with pytest.raises(InputError, match="stream 'dino' has no features for clip v_0-1"):
        ds[0]
    bad = SignDataset(sents, {"pose": FeatureSource({"v-1": np.zeros((5, 2))}, per_video_fps=10)})
    with pytest.raises(InputError, match="v_1-1 .* has no frames in video v-1"):
        bad[1]


def test_dataloader_with_workers():
    sents = sentences(8)
    ds = SignDataset(sents, {"pose": FeatureSource(clip_store(sents, 16))}, TaskBuilder(sents, seed=0))
    loader = DataLoader(ds, batch_size=4, num_workers=2, collate_fn=SignCollator())
    batches = list(loader)
    assert len(batches) == 2 and sum(len(b["sentences"]) for b in batches) == 8
