"""The model card of an export: YAML front matter the Hugging Face Hub reads (``huggingface_hub.ModelCardData``),
then what the model is, what it was trained on and how, how its poses were extracted, what it scores, what it
is for and not, and how to load it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..data.languages import Language, language

EVALUATION = "evaluation.json"
TAGS = ["sign-language-translation", "sign-language", "signllava", "pose-estimation", "mediapipe"]
METRICS = ["sacrebleu", "chrf", "rouge"]
SYNTHETIC_LIMITS = (
    "Trained on *synthsign* only, SignLLaVA's synthetic signing language (generated poses, a small lexicon and "
    "grammar): it **knows no ASL** and its output on a real signing video means nothing. It is there to run "
    "and test the whole system offline and to show what a trained model looks like; train on How2Sign (or "
    "other sign-language data) for a real one."
)
REAL_LIMITS = (
    "Research on sign language translation and question answering about signing. It translates signing like "
    "its training data (signers, domain, camera, the sign language named above): expect much lower quality "
    "elsewhere, and do not use it where a wrong translation can harm someone (medical, legal, emergency "
    "communication). Its questions are the QA kinds it was trained on; others are refused."
)


@dataclass
class Card:
    """What the card says beyond the export's config: its title and the front matter given on the command line."""

    name: str
    license: str | None = None
    datasets: list[str] = field(default_factory=list)
    base_model: str | None = None
    kind: str = "signllava"


def evaluation_summary(report: dict | None) -> dict | None:
    """The scores of an ``evaluate`` report (no hypotheses), with what a reader needs to compare them; a
    summary already (an export's ``evaluation.json``) as it is."""
    if report and "translation" not in report and "bleu4" in report:
        return report
    if not report or "translation" not in report:
        return None
    t = report["translation"]
    config = report.get("config") or {}
    data = (config.get("data") or {}).get("metadata") or []
    keys = ("bleu1", "bleu2", "bleu3", "bleu4", "chrf", "rougeL", "exact", "bleu_signature", "chrf_signature")
    return {
        "split": report.get("split"),
        "sentences": report.get("sentences"),
        "context": report.get("context"),
        "beam": config.get("num_beams"),
        "data": [_short(m) for m in data],
        **{k: t[k] for k in keys if k in t},
        "qa": {task: m.get("accuracy") for task, m in (report.get("qa") or {}).items() if isinstance(m, dict)},
    }


def _short(path) -> str:
    """A data file as its folder and name (not the whole path of the machine it was trained on)."""
    return "/".join(Path(str(path)).parts[-2:])


def _synthetic(config: dict) -> bool:
    """Whether every training metadata file is synthsign's (the project's generated data)."""
    metadata = ((config.get("config") or {}).get("data") or {}).get("metadata") or []
    return bool(metadata) and all("synth" in str(m).lower() for m in metadata)


def render_card(card: Card, config: dict, evaluation: dict | None) -> str:
    from huggingface_hub import EvalResult, ModelCardData

    encoder = card.kind == "encoder"
    synthetic = not encoder and _synthetic(config)
    pair = language(None if encoder else (config["config"].get("model") or {}).get("language"))
    results = []
    if evaluation:
        dataset = "synthsign" if synthetic else (card.datasets[0] if card.datasets else "custom")
        name = f"{dataset} {evaluation.get('split')} ({evaluation.get('sentences')} sentences)"
        for key, label in (("bleu4", "BLEU-4"), ("chrf", "chrF"), ("rougeL", "ROUGE-L")):
            if key in evaluation:
                results.append(
                    EvalResult(
                        task_type="translation",
                        dataset_type=dataset,
                        dataset_name=name,
                        dataset_split=evaluation.get("split"),
                        metric_type=METRICS[("bleu4", "chrf", "rougeL").index(key)],
                        metric_value=round(float(evaluation[key]), 2),
                        metric_name=label,
                    )
                )
    data = ModelCardData(
        license=card.license or "other",
        language=[pair.code] if synthetic or encoder else [pair.sign_code, pair.code],
        tags=TAGS + (["self-supervised", config.get("objective", "")] if encoder else []),
        datasets=card.datasets or None,
        metrics=None if encoder else METRICS,
        base_model=None if encoder else card.base_model,
        pipeline_tag="feature-extraction" if encoder else "video-text-to-text",
        model_name=card.name,
        eval_results=results or None,
    )
    body = _encoder_body(card, config) if encoder else _model_body(card, config, evaluation, synthetic, pair)
    return f"---\n{data.to_yaml()}\n---\n\n{body}"


def _model_body(card: Card, config: dict, evaluation: dict | None, synthetic: bool, pair: Language) -> str:
    meta, cfg = config["meta"], config["config"]
    streams = ", ".join(
        f"`{n}` ({s['dim']} values a frame, `{s.get('projector')}`, pooling {s.get('pool')}/{s.get('stride')}, "
        f"{s.get('temporal', 0)} temporal blocks)"
        for n, s in meta["streams"].items()
    )
    connector = (meta.get("connector") or {"kind": "mlp"})["kind"]
    lines = [
        f"# {card.name}",
        "",
        f"A SignLLaVA model: {'sign-language' if synthetic else pair.sign} video → {pair.written} text, and "
        "yes/no answers about the signing. MediaPipe Holistic poses (and any encoder streams) are projected into the "
        f"frozen LLM `{card.base_model or meta['llm']}` through the `{connector}` connector; streams: {streams}.",
        "",
        "## Evaluation",
        "",
    ]
    if evaluation:
        beam = evaluation.get("beam")
        lines += [
            f"On the `{evaluation.get('split')}` split ({evaluation.get('sentences')} sentences"
            + (f" of {', '.join(evaluation['data'])}" if evaluation.get("data") else "")
            + f"), context: {evaluation.get('context')}, beam {beam}:",
            "",
            "| BLEU-1 | BLEU-2 | BLEU-3 | BLEU-4 | chrF | ROUGE-L | exact |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            "| "
            + " | ".join(f"{evaluation.get(k, float('nan')):.2f}" for k in ("bleu1", "bleu2", "bleu3", "bleu4"))
            + f" | {evaluation.get('chrf', float('nan')):.2f} | {evaluation.get('rougeL', float('nan')):.2f}"
            + f" | {evaluation.get('exact')}/{evaluation.get('sentences')} |",
            "",
            f"sacreBLEU signatures: BLEU `{evaluation.get('bleu_signature')}`, chrF "
            f"`{evaluation.get('chrf_signature')}` (sacreBLEU's `corpus_bleu` on detokenized text).",
        ]
        if evaluation.get("qa"):
            qa = ", ".join(f"{task} {acc:.1f} %" for task, acc in evaluation["qa"].items() if acc is not None)
            lines += ["", f"Yes/no questions (accuracy): {qa}."]
    else:
        lines += ["Not evaluated: run `signllava evaluate RUN/last` and export again to put its scores here."]
    lines += ["", "## Training", "", *_recipe(meta, cfg), "", "## Pose extraction", "", *_extraction(meta, synthetic)]
    lines += [
        "",
        "## Intended use and limits",
        "",
        SYNTHETIC_LIMITS if synthetic else REAL_LIMITS,
        "",
        "## How to load it",
        "",
        "```bash",
        "# with SignLLaVA installed (its README's first command)",
        f"signllava translate video.mp4 --checkpoint {card.name if '/' in card.name else 'USER/' + card.name}",
        "```",
        "",
        "```python",
        "from signllava import Translator",
        "",
        f'translator = Translator.load("{card.name if "/" in card.name else "USER/" + card.name}")  # or this folder',
        'for segment in translator.translate("video.mp4"):',
        "    print(segment.start, segment.end, segment.text)",
        "```",
        "",
        "The repo id resolves through `huggingface_hub`: the local cache first (`HF_HUB_OFFLINE=1` works), else a "
        "download; the base LLM is loaded by its id the same way. `adapter/` holds the LoRA adapters as a peft "
        "adapter folder (`PeftModel.from_pretrained(base_llm, 'adapter')`), `config.json` the full training config.",
        "",
    ]
    return "\n".join(lines)


def _recipe(meta: dict, cfg: dict) -> list[str]:
    optim, lora, data = cfg.get("optim", {}), cfg.get("lora", {}), cfg.get("data", {})
    stage = (
        f"stage 2: the projectors with LoRA adapters on the LLM (rank {lora.get('r')}, alpha {lora.get('alpha')})"
        if meta.get("lora")
        else "stage 1: the projectors only, the LLM frozen"
    )
    context = data.get("context") or {}
    tasks = {k: v for k, v in (data.get("tasks") or {}).items() if v}
    out = [
        f"- {stage}; {meta.get('step')} steps of batch {optim.get('batch_size')} × {optim.get('grad_accum', 1)} "
        f"accumulated, peak learning rate {optim.get('lr')}, seed {cfg.get('seed')}"
        + (f", gloss CTC loss weight {cfg['ctc']}" if cfg.get("ctc") else ""),
        f"- data: {', '.join(_short(m) for m in data.get('metadata') or []) or 'not recorded'}",
        f"- context: the first {context.get('prelude')} sentences of the video and the {context.get('preceding')} "
        "before the current one",
    ]
    if tasks:
        out.append("- tasks (sampling weight): " + ", ".join(f"{k} {v}" for k, v in tasks.items()))
    out.append("- the whole training config is in `config.json` (`config`)")
    return out


def _extraction(meta: dict, synthetic: bool) -> list[str]:
    poses = meta.get("poses") or {}
    if not poses and synthetic:
        return [
            "The training poses were generated (synthsign), in MediaPipe Holistic's layout; `translate` reads new "
            "videos with Holistic's defaults at 25 fps."
        ]
    if not poses:
        return [
            "Not recorded: new videos are read with MediaPipe Holistic's defaults at 25 fps (`signllava "
            "extract-poses`); extract yours the way the training poses were made."
        ]
    holistic = poses.get("holistic") or {}
    settings = ", ".join(f"{k} {v}" for k, v in holistic.items() if k not in ("task_bundle",))
    return [
        f"MediaPipe Holistic ({settings}) at {poses.get('fps')} fps; `translate` extracts new videos the same way "
        "(recorded in `config.json` → `meta.poses`)."
    ]


def _encoder_body(card: Card, config: dict) -> str:
    cfg = config["config"]
    objective, optim = config.get("objective"), cfg.get("optim", {})
    return "\n".join(
        [
            f"# {card.name}",
            "",
            f"A self-supervised sign encoder ({objective}) pretrained with SignLLaVA:"
            " it turns poses (and, for DINO and MAE, video crops) into per-frame features that a SignLLaVA model "
            "reads as a stream.",
            "",
            "## Training",
            "",
            f"- objective `{objective}`, model settings {cfg.get('model') or 'the defaults'}",
            f"- optimizer: peak learning rate {optim.get('lr')}, {optim.get('max_steps')} steps of batch "
            f"{optim.get('batch_size')}, seed {cfg.get('seed')}",
            "- the whole config is in `config.json` (`config`)",
            "",
            "## Intended use and limits",
            "",
            "Feature extraction for sign-language research, on signing like its training data.",
            "",
            "## How to load it",
            "",
            "```bash",
            f"signllava translate video.mp4 --checkpoint MODEL --encoder {objective}=USER/{card.name}",
            "```",
            "",
        ]
    )
