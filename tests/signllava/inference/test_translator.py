"""Translating a video or .pose file with a trained checkpoint: frame rates, bad inputs, the pose prefetch,
encoder streams and the pose settings the model was trained with."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from pose.errors import InputError
from pose.io import read_pose
from signllava.cli import app
from signllava.inference.encoders import load_encoders
from signllava.inference.translator import Translator
from signllava.model.model import ModelConfig, StreamConfig
from tests.conftest import realdata, write_video

runner = CliRunner()


def test_translate_pose_file_and_formats(checkpoint, synth, tmp_path):
    clip = next((synth / "poses").glob("*.pose"))
    translator = Translator.load(checkpoint, "cpu")
    segments = translator.translate(clip, num_beams=1, max_new_tokens=4)
    assert len(segments) == 1 and segments[0].end > 0
    out = tmp_path / "sub.vtt"
    result = runner.invoke(
        app, ["translate", str(clip), "--checkpoint", str(checkpoint), "--beam", "1", "-f", "vtt", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("WEBVTT\n\n00:00:00.000 --> ")
    answer = translator.ask(clip, "Is the video reversed?", max_new_tokens=3)
    assert isinstance(answer, str)


def test_a_pose_file_at_another_frame_rate_is_resampled_to_the_models(checkpoint, synth, tmp_path):
    """A .pose at 50 fps (each frame of a 25 fps clip twice) reads as the 25 fps clip: the same
    features, times and translation, not a clip signed at half speed."""
    from pose_format import Pose

    from pose.io import write_pose

    clip = next((synth / "poses").glob("*.pose"))
    pose = read_pose(clip)
    assert float(pose.body.fps) == 25
    body = pose.body.select_frames(np.repeat(np.arange(len(pose.body.data)), 2))
    body.fps = 50.0
    doubled = write_pose(Pose(pose.header, body), tmp_path / "doubled.pose")
    translator = Translator.load(checkpoint, "cpu", cache=tmp_path / "cache")
    assert translator.target_fps == 25
    original, resampled = (translator._features(translator.poses(p), p)["pose"] for p in (clip, doubled))
    np.testing.assert_array_equal(resampled, original)
    a, b = (translator.translate(p, num_beams=1, max_new_tokens=4) for p in (clip, doubled))
    assert [(s.start, s.end, s.text) for s in a] == [(s.start, s.end, s.text) for s in b]


def test_translate_bad_inputs(checkpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNLLAVA_CACHE", str(tmp_path / "cli-cache"))
    translator = Translator.load(checkpoint, "cpu")
    with pytest.raises(InputError, match="gone.mp4: file not found"):
        translator.translate(tmp_path / "gone.mp4")
    empty = write_video(tmp_path / "nobody.mp4", frames=6, size=(128, 96))
    translator.cache = tmp_path / "cache"
    with pytest.raises(InputError, match="nobody.mp4: no signer found in any frame"):
        translator.translate(empty)
    result = runner.invoke(app, ["translate", str(empty), "--checkpoint", str(checkpoint), "--device", "cpu"])
    assert isinstance(result.exception, InputError) and "no signer found" in str(result.exception)
    with pytest.raises(InputError, match="no pose view has that size"):
        Translator(type("M", (), {"config": ModelConfig(streams={"dino": StreamConfig(1152)})})())


def test_the_cli_packs_the_llm_weights_only_for_a_long_input(tmp_path):
    from pose.io import write_pose
    from signllava.inference.translator import HALF_WEIGHTS_FROM_SECONDS, half_weights_pay_off
    from tests.pose.test_features import synthetic_pose

    assert not half_weights_pay_off(write_video(tmp_path / "short.mp4", frames=6, size=(128, 96)))
    for seconds, pays in ((HALF_WEIGHTS_FROM_SECONDS - 1, False), (HALF_WEIGHTS_FROM_SECONDS + 1, True)):
        path = tmp_path / f"{seconds}.pose"
        write_pose(synthetic_pose(frames=int(seconds * 25)), path)  # 25 fps
        assert half_weights_pay_off(path) is pays
    (tmp_path / "junk.pose").write_bytes(b"not a pose")
    for unreadable in (tmp_path / "gone.mp4", tmp_path / "junk.pose"):  # translate itself says what is wrong
        assert not half_weights_pay_off(unreadable)


def test_prefetched_poses_are_extracted_while_the_model_loads(checkpoint, tmp_path, monkeypatch):
    from signllava.demo import make_sample_video

    monkeypatch.setenv("SIGNLLAVA_CACHE", str(tmp_path / "cache"))
    video = make_sample_video(tmp_path / "portrait.mp4", seconds=1.0, size=(240, 240))
    nobody = write_video(tmp_path / "nobody.mp4", frames=6, size=(128, 96))
    with pytest.raises(InputError, match="checkpoint"):  # a failed load stops the prefetch and its workers
        Translator.load(tmp_path / "no-such-run", "cpu", prefetch=[video])
    translator = Translator.load(checkpoint, "cpu", prefetch=[video, nobody, tmp_path / "gone.mp4"])
    source = translator.pose_source
    assert len(source._pending) == 2  # a missing file is left to translate, which names it
    pose = translator.poses(video)
    assert not source._pending.get(source._file_key(video)) and "poses" in translator.timings.stages
    assert source.cached_pose(video).is_file() and len(pose.body.data) == 25
    with pytest.raises(InputError, match="nobody.mp4: no signer found in any frame"):  # raised where it is used
        translator.translate(nobody)
    with pytest.raises(InputError, match="gone.mp4: file not found"):
        translator.translate(tmp_path / "gone.mp4")
    translator.close()


@pytest.mark.slow
def test_translate_real_clip_uses_the_pose_cache(checkpoint, tmp_path, monkeypatch):
    clip = realdata("how2sign", "clips", "_0fO5ETSwyg_1-5-rgb_front.mp4")
    monkeypatch.setenv("SIGNLLAVA_CACHE", str(tmp_path / "cache"))
    args = ["translate", str(clip), "--checkpoint", str(checkpoint), "--beam", "1", "-v", "-f", "json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["segments"][0]["end"] > 0
    second = runner.invoke(app, args)
    assert second.exit_code == 0 and "(poses from cache)" in second.stderr and "poses from cache" not in first.stderr


@pytest.fixture(scope="module")
def sign2vec_model(synth, llm_dir, tmp_path_factory):
    """A Sign2Vec encoder, its features in a store, and a SignLLaVA checkpoint trained on that store."""
    from pretrain.build import PretrainConfig
    from pretrain.data import PretrainData
    from pretrain.extract import ExtractFeaturesConfig, extract_features
    from pretrain.optim import OptimConfig
    from pretrain.trainer import pretrain
    from signllava.data.streams import DataConfig, StreamInput
    from signllava.model.build import TrainConfig, TrainOptim
    from signllava.train import train

    root = tmp_path_factory.mktemp("s2v-model")
    poses = PretrainData(poses=str(synth / "poses"))
    optim = OptimConfig(max_steps=1, batch_size=4)
    pretrain(PretrainConfig("sign2vec", {"size": "tiny"}, poses, optim, str(root / "s2v"), device="cpu"), False)
    job = ExtractFeaturesConfig("sign2vec", str(root / "s2v" / "last"), poses, str(root / "store"), device="cpu")
    dim = extract_features(job, progress=False).stats.dim
    cfg = TrainConfig(
        model=ModelConfig(llm=llm_dir, streams={"sign2vec": StreamConfig(dim, stride=4)}),
        data=DataConfig(
            metadata=[str(synth / "how2sign_realigned_train.csv")],
            streams={"sign2vec": StreamInput(store=str(root / "store"))},
        ),
        optim=TrainOptim(max_steps=1, batch_size=2),
        output_dir=str(root / "run"),
        device="cpu",
    )
    train(cfg, progress=False)
    return root


def test_translate_computes_an_encoder_stream_and_caches_it(sign2vec_model, synth, tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNLLAVA_CACHE", str(tmp_path / "cache"))
    run, encoder = sign2vec_model / "run" / "last", sign2vec_model / "s2v" / "last"
    clip = next((synth / "poses").glob("*.pose"))
    translator = Translator.load(run, "cpu")  # finds its encoder where extract-features recorded it
    assert list(translator.encoders) == ["sign2vec"] and not translator.views
    first = translator.translate(clip, num_beams=1, max_new_tokens=3)
    assert len(first) == 1 and not translator.timings.cached_features and "sign2vec" in translator.timings.stages
    again = translator.translate(clip, num_beams=1, max_new_tokens=3)
    assert translator.timings.cached_features and again == first
    (sign2vec_model / "store" / "sign2vec" / "encoder.json").unlink()  # the store moved, or another machine
    with pytest.raises(InputError, match="give --encoder sign2vec=PRETRAIN_RUN/last"):
        Translator.load(run, "cpu")
    args = ["translate", str(clip), "--checkpoint", str(run), "--beam", "1", "--encoder"]
    result = runner.invoke(app, [*args, f"sign2vec={encoder}", "-v"])
    assert result.exit_code == 0 and "(features from cache)" in result.stderr, result.output
    result = runner.invoke(app, [*args, "sign2vec"])
    assert isinstance(result.exception, InputError) and "must look like NAME=CHECKPOINT" in str(result.exception)
    stream = {"sign2vec": StreamConfig(translator.model.config.streams["sign2vec"].dim)}
    with pytest.raises(InputError, match="--encoder dino: the model has no such stream"):
        load_encoders(stream, {"dino": encoder}, {}, "cpu")
    with pytest.raises(InputError, match="sign2vec encoder gives .* values per frame; the model's stream 'x' has 5"):
        load_encoders({"x": StreamConfig(5)}, {"x": encoder}, {}, "cpu")


def test_a_model_that_fails_to_load_drops_the_prefetch_at_once(checkpoint, tmp_path, monkeypatch):
    import signllava.model.build

    monkeypatch.setenv("SIGNLLAVA_CACHE", str(tmp_path / "cache"))
    video = write_video(tmp_path / "long.mp4", frames=1000, size=(128, 96))

    def wrong_llm(folder, *args, **kwargs):  # as check_compatible fails, once the LLM has loaded
        raise InputError(folder, "checkpoint is for LLM 'other'")

    monkeypatch.setattr(signllava.model.build, "load_trained", wrong_llm)
    closed, close = [], Translator.close

    def spy(self, abort=False):
        pending = list(self.pose_source._pending.values())
        close(self, abort)
        closed.append((abort, [p.exception() for p in pending]))

    monkeypatch.setattr(Translator, "close", spy)
    with pytest.raises(InputError, match="checkpoint is for LLM 'other'"):
        Translator.load(checkpoint, "cpu", prefetch=[video], pose_workers=2)
    [(aborted, errors)] = closed
    assert aborted and len(errors) == 1 and errors[0] is not None  # the extraction was killed, not waited for
    assert not list((tmp_path / "cache").rglob("*.pose"))


def test_videos_are_extracted_as_the_training_poses_were(llm_dir, tmp_path):
    from dataclasses import asdict, replace

    from pose.config import ExtractConfig, HolisticConfig, VideoConfig
    from pose.config_loader import save_config
    from pose.io import write_pose
    from pose.provenance import PoseBackendWarning
    from signllava.data.streams import DataConfig, StreamInput
    from signllava.model.build import TrainConfig, TrainOptim
    from signllava.model.checkpoint import read_meta
    from signllava.train import train
    from tests.pose.test_features import synthetic_pose

    poses = tmp_path / "poses"  # as `extract-poses --set holistic.min_detection_confidence=0.7 --fps 30` leaves them
    for i in range(3):
        pose = synthetic_pose(frames=12)
        pose.body.fps = 30
        write_pose(pose, poses / f"c{i}.pose")
    heavy = HolisticConfig(min_detection_confidence=0.7)  # a setting both pose backends have
    save_config(ExtractConfig(holistic=heavy, video=VideoConfig(target_fps=30)), poses / "extract_poses.yaml")
    meta = tmp_path / "train.csv"
    meta.write_text(
        "VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE\n"
        + "".join(f"v\tv-1\tv_{i}\tc{i}\t{i}.0\t{i}.4\thello {i}\n" for i in range(3))
    )
    cfg = TrainConfig(
        model=ModelConfig(llm=llm_dir, streams={"pose": StreamConfig(208, stride=4)}),
        data=DataConfig(metadata=[str(meta)], streams={"pose": StreamInput(poses=str(poses))}),
        optim=TrainOptim(max_steps=1, batch_size=3),
        output_dir=str(tmp_path / "run"),
        device="cpu",
    )
    train(cfg, progress=False)
    checkpoint = tmp_path / "run" / "last"
    assert read_meta(checkpoint)["poses"] == {"holistic": asdict(heavy), "fps": 30.0}
    with Translator.load(checkpoint, "cpu") as translator:
        assert translator.holistic == translator.extractor.config == heavy and translator.target_fps == 30.0
    with Translator.load(checkpoint, "cpu", target_fps=25.0) as translator:  # the caller decides
        assert translator.target_fps == 25.0 and translator.holistic == heavy
    other = replace(heavy, backend="tasks" if heavy.backend == "legacy" else "legacy")
    expected = f"poses of the {heavy.backend} MediaPipe backend but gets {other.backend}"
    with pytest.warns(PoseBackendWarning, match=expected):
        with Translator.load(checkpoint, "cpu", holistic=other) as translator:
            assert translator.holistic == other


def test_ask_answers_only_the_kinds_the_model_was_trained_on(checkpoint, synth):
    from signllava.inference.answers import AnswerConfig

    clip = next((synth / "poses").glob("*.pose"))
    translator = Translator.load(checkpoint, "cpu", answers=AnswerConfig(num_beams=1))
    assert translator.kinds == ("sign_present", "signs_present", "reversed")  # the fixture's task weights
    for question, problem in [
        ("Tell me a joke", '"Tell me a joke" is not a question the model was trained on; this model answers: '),
        ("What is the first word of the translation?", "of kind first_word, which this model was never trained on"),
    ]:
        with pytest.raises(InputError, match=problem):
            translator.ask(clip, question)
    # a word question is read off the translation translate gives, so the two never disagree
    text = " ".join(s.text for s in translator.translate(clip, num_beams=1))
    words = [w for w in text.lower().replace(",", " ").split() if w.isalpha()]
    assert words, text  # the tiny LLM's words are noise, but words
    for word in words[:2]:
        assert translator.ask(clip, f"Is the sign '{word}' present?") == "yes"
    assert translator.ask(clip, "is the sign zebra present") == "no"
    assert (
        translator.ask(clip, "Are the signs 'zebra', 'okapi' present? Answer yes or no for each, separated by commas.")
        == "no, no"
    )


def test_a_clip_and_the_same_clip_backwards_get_opposite_reversed_answers(checkpoint, synth, tmp_path):
    from pose_format import Pose

    from pose.io import write_pose

    clip = next((synth / "poses").glob("*.pose"))
    pose = read_pose(clip)
    backwards = write_pose(Pose(pose.header, pose.body.select_frames(np.arange(len(pose.body.data))[::-1])),
                           tmp_path / "backwards.pose")  # fmt: skip
    translator = Translator.load(checkpoint, "cpu")
    answers = [translator.ask(p, "Is the video reversed?") for p in (clip, backwards)]
    assert sorted(answers) == ["no", "yes"]


def test_the_cli_refuses_a_question_of_no_trained_kind_before_loading_the_model(synth):
    import subprocess
    import sys

    clip = next((synth / "poses").glob("*.pose"))
    for question, problem in [
        ("Tell me a joke", '"Tell me a joke" is not a question the model was trained on'),
        ("Is the signer asking a question?", "of kind is_question, which this model was never trained on"),
    ]:
        result = subprocess.run(
            [sys.executable, "-m", "signllava", "ask", str(clip), question], capture_output=True, text=True
        )
        assert result.returncode == 2 and result.stdout == ""
        (line,) = result.stderr.splitlines()
        # the default model was trained on sign-present and reversed questions only
        assert line.startswith("error: ") and problem in line
        assert line.endswith("""this model answers: "Is the sign '<word>' present?"; "Is the video reversed?\"""")
