"""The run config a SignLLaVA checkpoint records."""

from __future__ import annotations

from signllava.model.build import TrainConfig


def test_a_config_file_lists_the_whole_stream_set(tmp_path):
    from pose.config_loader import load_config

    path = tmp_path / "c.yaml"
    path.write_text("model:\n  streams:\n    sign2vec: {dim: 64, stride: 4}\noptim: {lr: 0.1}\n")
    cfg = load_config(TrainConfig, path, ["model.streams.sign2vec.stride=2"])
    assert list(cfg.model.streams) == ["sign2vec"]  # the default pose stream is not merged in
    assert cfg.model.streams["sign2vec"].stride == 2 and cfg.optim.lr == 0.1 and cfg.optim.batch_size == 8
    assert load_config(TrainConfig, None, ["model.streams.pose.stride=2"]).model.streams["pose"].dim == 208
