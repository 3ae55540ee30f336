"""The record of which pretraining checkpoint extracted a feature store's encoder stream."""

from __future__ import annotations

import json
import shutil

from pretrain.encoder_record import ENCODER_RECORD, record_encoder, recorded_encoder


def test_the_recorded_checkpoint_is_read_back_as_an_absolute_path(tmp_path, monkeypatch):
    (tmp_path / "runs" / "s2v" / "last").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    path = record_encoder(tmp_path / "store", "sign2vec", "runs/s2v/last")  # relative to where extraction ran
    assert path == tmp_path / "store" / "sign2vec" / ENCODER_RECORD
    absolute = tmp_path / "runs" / "s2v" / "last"
    assert json.loads(path.read_text()) == {"stream": "sign2vec", "checkpoint": str(absolute)}
    monkeypatch.chdir(tmp_path / "runs")  # read from elsewhere: still the same folder
    assert recorded_encoder(tmp_path / "store", "sign2vec") == absolute
    assert recorded_encoder(str(tmp_path / "store"), "sign2vec") == absolute
    assert not list(path.parent.glob(".*"))  # written atomically: no temporary left


def test_no_usable_record_is_none(tmp_path):
    checkpoint = tmp_path / "last"
    checkpoint.mkdir()
    record = record_encoder(tmp_path / "store", "mae", checkpoint)
    assert recorded_encoder(None, "mae") is None and recorded_encoder("", "mae") is None
    assert recorded_encoder(tmp_path / "store", "dino") is None  # another stream: nothing recorded
    for text in ("{broken", json.dumps({"stream": "mae"}), json.dumps(["x"])):
        record.write_text(text)
        assert recorded_encoder(tmp_path / "store", "mae") is None
    record_encoder(tmp_path / "store", "mae", checkpoint)
    shutil.rmtree(checkpoint)  # the run was moved or deleted since
    assert recorded_encoder(tmp_path / "store", "mae") is None
