"""Every connector through the rest of the system on tiny synthsign and the tiny LLM: stages 1 and 2,
exact resume, gradient checkpointing, checkpoints, evaluate, translate / ask, subtitles, the notebook's
session, submit, the gloss CTC head with gloss_prompt, context prompts and QA."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from pose.errors import InputError
from signllava.cli import app
from signllava.data.streams import DataConfig, StreamInput
from signllava.model.build import LoraSettings, TrainConfig, TrainOptim, load_trained
from signllava.model.checkpoint import read_meta
from signllava.model.connectors import CONNECTORS, CrossAttentionConfig, ResamplerConfig
from signllava.model.model import ModelConfig, StreamConfig
from signllava.train import train

SLURM = Path(__file__).parents[3] / "slurm"


def synth_config(llm_dir, synth, out, connector: str, steps: int = 8, **extra) -> TrainConfig:
    """Stage 1 on tiny synthsign's training sentences (pose stream, stride 4), every task, with context."""
    model = extra.pop("model", {})
    return TrainConfig(
        model=ModelConfig(
            llm=llm_dir,
            streams={"pose": StreamConfig(208, stride=4)},
            connector=connector,
            resampler=ResamplerConfig(queries=2),
            xattn=CrossAttentionConfig(every=1),
            **model,
        ),
        data=DataConfig(
            metadata=[str(synth / f"how2sign_realigned_{split}.csv") for split in ("train", "test")],
            streams={"pose": StreamInput(poses=str(synth / "poses"))},
        ),
        optim=TrainOptim(max_steps=steps, batch_size=2, lr=3e-2, warmup_ratio=0.0, **extra.pop("optim", {})),
        output_dir=str(out),
        device="cpu",
        log_every=1,
        save_every=100,
        **extra,
    )


def losses(run: Path) -> list[float]:
    return [json.loads(line)["loss"] for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("connector", list(CONNECTORS))
def test_stage1_loss_falls_on_tiny_synthsign_for_every_connector(llm_dir, synth, tmp_path, connector):
    train(synth_config(llm_dir, synth, tmp_path / "run", connector, steps=12), progress=False)
    curve = losses(tmp_path / "run")
    assert len(curve) == 12 and np.mean(curve[-4:]) < 0.95 * np.mean(curve[:4])
    assert read_meta(tmp_path / "run" / "last")["connector"]["kind"] == connector


def test_resume_and_gradient_checkpointing_keep_the_curve_of_a_hybrid(llm_dir, synth, tmp_path):
    train(synth_config(llm_dir, synth, tmp_path / "a", "hybrid", steps=4), progress=False)
    train(synth_config(llm_dir, synth, tmp_path / "b", "hybrid", steps=4), progress=False, should_stop=lambda s: s == 2)
    train(synth_config(llm_dir, synth, tmp_path / "b", "hybrid", steps=4), progress=False)
    checkpointed = synth_config(
        llm_dir, synth, tmp_path / "c", "hybrid", steps=4, optim={"gradient_checkpointing": True}
    )
    train(checkpointed, progress=False)
    np.testing.assert_allclose(losses(tmp_path / "b"), losses(tmp_path / "a"), rtol=1e-5)
    # transformers replays a checkpointed layer's forward, not its hooks: the blocks run once and keep their gradients
    np.testing.assert_allclose(losses(tmp_path / "c"), losses(tmp_path / "a"), rtol=1e-5)


@pytest.fixture(scope="module")
def xattn_stage2(llm_dir, synth, tmp_path_factory) -> Path:
    """Stage 1 (gloss CTC, the recognized glosses in the prompt) then stage 2 (LoRA) with connector xattn."""
    root = tmp_path_factory.mktemp("xattn")
    glosses = {"model": {"gloss_prompt": True}, "ctc": 0.5}
    train(synth_config(llm_dir, synth, root / "s1", "xattn", steps=3, **glosses), progress=False)
    cfg = synth_config(llm_dir, synth, root / "s2", "xattn", steps=2, **glosses)
    cfg.lora = LoraSettings(enabled=True, r=4, alpha=8)
    cfg.init_from = str(root / "s1" / "last")
    train(cfg, progress=False)
    return root / "s2" / "last"


def test_stage2_xattn_checkpoint_translates_with_context_answers_and_writes_subtitles(xattn_stage2, synth, tmp_path):
    from signllava.inference.translator import Translator

    meta = read_meta(xattn_stage2)
    assert meta["lora"] and meta["connector"]["kind"] == "xattn" and meta["glosses"] > 0
    model, cfg = load_trained(xattn_stage2, "cpu", merge=True)
    assert cfg.model.connector == "xattn" and cfg.model.gloss_prompt
    assert any(float(p.detach().abs()) > 0 for n, p in model.connector.named_parameters() if n.endswith("attn_gate"))
    clip = sorted((synth / "poses").glob("*test*.pose"))[1]
    translator = Translator.load(xattn_stage2, "cpu")
    segments = translator.translate(clip, context=["I went to the game yesterday."], num_beams=2, max_new_tokens=4)
    assert len(segments) == 1 and segments[0].glosses is not None  # the gloss head read the clip
    assert isinstance(translator.ask(clip, "Is the sign 'GO' present?", max_new_tokens=2), str)
    out = tmp_path / "sub.srt"
    args = ["translate", str(clip), "--checkpoint", str(xattn_stage2), "--beam", "2", "-f", "srt", "-o", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("1\n00:00:00,000 --> ")


def test_evaluate_scores_an_xattn_checkpoint_with_its_own_outputs_as_context(xattn_stage2):
    from signllava.evaluate import EvalConfig, evaluate

    cfg = EvalConfig(
        checkpoint=str(xattn_stage2), split="test", num_beams=2, max_new_tokens=4, context="own", qa=["sign_present"]
    )
    report = evaluate(cfg, progress=False)
    assert report["sentences"] == 5 and "bleu4" in report["translation"]
    assert report["qa"]["sign_present"]["n"] == 10 and report["ambiguous"] is not None  # a present and an absent word
    assert "pose" in report["recognition"]  # the gloss head's WER


def test_the_notebook_session_on_a_resampler_checkpoint(llm_dir, synth, tmp_path):
    from signllava.inference.translator import Translator
    from signllava.notebook import QASession

    train(synth_config(llm_dir, synth, tmp_path / "run", "resampler", steps=2), progress=False)
    translator = Translator.load(tmp_path / "run" / "last", "cpu")
    clip = sorted((synth / "poses").glob("*test*.pose"))[0]
    session = QASession(translator, clip, workdir=tmp_path / "qa", num_beams=1, max_new_tokens=4, answer_tokens=3)
    assert len(session.translation().segments) == 1
    assert isinstance(session.ask("Is the video reversed?"), str)


def test_submit_trains_a_hybrid_and_init_from_refuses_another_connectors_checkpoint(
    llm_dir, synth, tmp_path, train_overrides
):
    from signllava.cluster.launcher import submit

    overrides = train_overrides(tmp_path / "run", 2, **{"model.connector": "hybrid", "model.xattn.every": 1})
    sub = submit("train", SLURM / "local.yaml", overrides=overrides, local=True)
    assert sub.results[0][0]["steps"] == 2
    assert read_meta(tmp_path / "run" / "last")["connector"]["kind"] == "hybrid"
    warm = synth_config(llm_dir, synth, tmp_path / "s2", "mlp", steps=1, init_from=str(tmp_path / "run" / "last"))
    with pytest.raises(InputError, match="trained with connector 'hybrid', the model is built with 'mlp'"):
        train(warm, progress=False)
