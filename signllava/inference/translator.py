"""The Python API behind ``signllava translate`` and ``ask``: a video (or .pose) in, English out.

``Translator.load(checkpoint)`` rebuilds a trained model once (no checkpoint: the embedded
default model, trained on synthetic signing only); ``translate(path)`` runs
decode -> poses -> the streams the checkpoint needs -> projectors -> LLM, segmenting long videos
at pauses and carrying the previous outputs as context; ``ask(path, question)`` answers a question
of a kind the model was trained on (:mod:`signllava.inference.questions`), by the method
:mod:`signllava.inference.answers` sets for it, and refuses any other. Each segment records the share of its
frames in which a hand was found (:mod:`signllava.inference.hands`): :meth:`Translator.hands_warning` says
when it is too small for the translation to mean anything. Encoder streams (Sign2Vec, DINO, MAE) come
from their pretraining checkpoints (:mod:`signllava.inference.encoders`). Poses (:mod:`signllava.inference.pose_source`)
and encoder features are cached by the input's content hash (``$SIGNLLAVA_CACHE/poses``,
``.../features``), so a second run on the same video skips extraction.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from pose_format import Pose

from pose.config import HolisticConfig
from pose.errors import InputError
from pose.io import atomic_output, make_folder
from pose.provenance import extraction_settings, warn_other_backend
from pose.video import FRAMES_FPS

from ..data.poses import view_for
from ..data.tasks import QUESTIONS, Task
from .answers import AnswerConfig, answer_tasks, decode, from_translation
from .encoders import StreamEncoder, load_encoders
from .hands import HandsCheck, hand_found, hands_warning, share_found
from .pose_source import PoseSource, Progress, input_seconds
from .questions import Question, recognize, trained_kinds
from .segment import SegmentConfig, segment
from .subtitles import Segment
from .timings import Timings

# Packing the LLM's linear weights into float16 (``half_weights``) costs ~2.6 s on 2 CPU cores
# (SmolLM2-135M: fbgemm packs 211 matrices) and ~0.75 GB of memory, and saves ~0.14 s per second of
# video (the LLM stage falls from ~0.32 to ~0.18 of real time; benchmarks/RESULTS.md): a one-off
# command repays it from ~20 s of video on, a Translator kept for many calls within its first minute.
HALF_WEIGHTS_FROM_SECONDS = 20.0


def half_weights_pay_off(paths: str | os.PathLike | Sequence[str | os.PathLike]) -> bool:
    """Whether packing the LLM's weights (``Translator.load(half_weights=...)``) pays off for one
    call on this video or .pose file, or these: together they are long enough
    (:data:`HALF_WEIGHTS_FROM_SECONDS`). A file that cannot be read counts 0 s; its translation then
    says what is wrong with it."""
    seconds = 0.0
    for path in [paths] if isinstance(paths, str | os.PathLike) else paths:
        try:
            seconds += input_seconds(path)
        except Exception:
            continue
        if seconds >= HALF_WEIGHTS_FROM_SECONDS:
            return True  # the rest need no probing
    return False


def checkpoint_kinds(checkpoint: str | os.PathLike | None) -> tuple[str, ...]:
    """The QA tasks a checkpoint (None: the embedded default model) was trained on, from its config."""
    from ..model.build import trained_config
    from ..model.checkpoint import default_checkpoint, read_meta
    from ..model.hub import resolve_checkpoint

    folder = default_checkpoint() if checkpoint is None else resolve_checkpoint(checkpoint)
    read_meta(folder)
    return trained_kinds(trained_config(folder).data.tasks.as_dict())


def check_question(checkpoint: str | os.PathLike | None, question: str) -> Question:
    """The question as a kind the checkpoint was trained on, checked without loading the model
    (:func:`signllava.inference.questions.recognize` raises an :class:`InputError` for any other)."""
    return recognize(question, checkpoint_kinds(checkpoint))


class Translator:
    """A trained SignLLaVA ready for videos: reuse one instance for many calls."""

    def __init__(
        self,
        model,
        holistic: HolisticConfig | None = None,
        segments: SegmentConfig | None = None,
        cache: Path | None = None,
        target_fps: float | None = 25.0,
        pose_workers: int = 0,
        encoders: Mapping[str, StreamEncoder] | None = None,
        kinds: Sequence[str] | None = None,
        answers: AnswerConfig | None = None,
        hands: HandsCheck | None = None,
        frames_fps: float = FRAMES_FPS,
    ):
        # the inputs' poses: extracted as the model's training poses were, cached, prefetched; ``frames_fps``:
        # the rate of a video given as a folder of frames
        self.pose_source = PoseSource(holistic, cache, target_fps, pose_workers, frames_fps)
        self.segments = segments or SegmentConfig()
        # the QA tasks the model was trained on, the only questions ask answers (load reads them from the
        # checkpoint's training config; None: every QA task, for a model whose training is not known)
        self.kinds = tuple(QUESTIONS) if kinds is None else tuple(kinds)
        self.answers = answers or AnswerConfig()
        self.hands = hands or HandsCheck()
        self.timings = Timings()
        self.model = None
        if model is not None:
            self._set_model(model, encoders)

    def _set_model(self, model, encoders: Mapping[str, StreamEncoder] | None) -> None:
        self.model = model
        # encoder streams from their pretraining checkpoints; the others are the pose view training
        # computed from .pose files (by its size)
        self.encoders = dict(encoders or {})
        self.views = {
            name: view_for(s.dim, name) for name, s in model.config.streams.items() if name not in self.encoders
        }

    @classmethod
    def load(
        cls,
        checkpoint: str | os.PathLike | None = None,
        device: str = "auto",
        llm: str | None = None,
        encoders: Mapping[str, str | os.PathLike] | None = None,
        prefetch: Sequence[str | os.PathLike] = (),
        half_weights: bool = True,
        progress: Progress | None = None,
        **kwargs,
    ) -> Translator:
        """A translator for a checkpoint folder, an exported one or a Hugging Face repo id (``user/name``,
        ``user/name@revision``: the cache first, else downloaded); ``None``: the embedded default model, which knows
        only the synthetic signing language (synthsign), not ASL. Videos' poses are extracted with
        the Holistic settings and at the frame rate of the poses the model was trained on, where the
        checkpoint records them (:mod:`pose.provenance`; else MediaPipe's defaults at 25 fps), unless
        ``holistic`` / ``target_fps`` are given. ``encoders``: the pretraining
        checkpoint of each encoder stream, where the feature store did not record it. ``prefetch``:
        videos whose poses to start extracting now, while the model loads (:meth:`prefetch`). The
        questions :meth:`ask` answers are the QA tasks the checkpoint's training config gave weight
        (unless ``kinds`` is given).
        ``half_weights``: on a CPU, the LLM's linear weights in float16 (~1.75x faster decoding;
        :func:`~signllava.model.llm.half_weight_linears`); ``False`` keeps them in float32. ``progress``:
        told how far each input is (:attr:`progress`), the prefetched ones' poses included."""
        from ..model.build import load_trained
        from ..model.checkpoint import default_checkpoint, read_meta
        from ..model.hub import resolve_checkpoint

        folder = default_checkpoint() if checkpoint is None else resolve_checkpoint(checkpoint)
        meta = read_meta(folder)  # a path that is no checkpoint fails now, before any extraction starts
        # new videos' poses are extracted as the training poses were (unless the caller says otherwise)
        holistic, fps = extraction_settings(meta.get("poses"), Path(folder) / "meta.json")
        if holistic is not None:
            warn_other_backend(holistic, kwargs.get("holistic"), " from the holistic settings given")
            kwargs.setdefault("holistic", holistic)
        if fps is not None:
            kwargs.setdefault("target_fps", fps)
        translator = cls(None, **kwargs)  # the pose side first, so that prefetching overlaps the model's load
        translator.progress = progress
        translator.prefetch(prefetch)
        try:
            model, cfg = load_trained(folder, device, llm, merge=True, half_weights=half_weights)
            if "kinds" not in kwargs:  # the questions it answers: the QA tasks its training gave weight
                translator.kinds = trained_kinds(cfg.data.tasks.as_dict())
            stores = {name: spec.store for name, spec in cfg.data.streams.items()}
            translator._set_model(model, load_encoders(model.config.streams, encoders or {}, stores, model.device))
        except BaseException:
            translator.close(abort=True)  # the error now, not after the prefetched video's extraction
            raise
        return translator

    # --- poses ---------------------------------------------------------------------------------

    @property
    def holistic(self) -> HolisticConfig:
        """The Holistic settings videos' poses are extracted with."""
        return self.pose_source.holistic

    @property
    def target_fps(self) -> float | None:
        """The frame rate poses are extracted or resampled at (None: the video's own)."""
        return self.pose_source.target_fps

    @property
    def progress(self) -> Progress | None:
        """Told how far each input is: its poses (also while prefetched, from that thread), encoder
        streams and decoding (:data:`signllava.inference.pose_source.Progress`); None: nobody is."""
        return self.pose_source.progress

    @progress.setter
    def progress(self, progress: Progress | None) -> None:
        self.pose_source.progress = progress

    def _report(self, path: str | os.PathLike, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(Path(path), stage, done, total)

    @property
    def extractor(self):
        """The pose worker processes (:class:`pose.parallel.ParallelExtractor`)."""
        return self.pose_source.extractor

    @property
    def cache(self) -> Path:
        """The pose cache folder; encoder features are cached next to it (``../features``)."""
        return self.pose_source.cache

    @cache.setter
    def cache(self, folder: Path) -> None:
        self.pose_source.cache = folder

    def poses(self, path: str | os.PathLike) -> Pose:
        """The video's Holistic pose (from the cache when this exact file was seen before), or a .pose
        file's, resampled by nearest frame to the frame rate the model's poses had (as videos are)."""
        return self.pose_source.poses(path, self.timings)

    def prefetch(self, paths: Sequence[str | os.PathLike]) -> None:
        """Start extracting these videos' poses now, in the background, for :meth:`poses` to pick up
        (:meth:`~signllava.inference.pose_source.PoseSource.prefetch`): the CLI starts its video's while the
        model loads."""
        self.pose_source.prefetch(paths)

    def close(self, abort: bool = False) -> None:
        """Stop the pose workers (they also stop with the process). A prefetch under way is
        finished first, unless ``abort``: then its worker processes are killed and it is dropped."""
        self.pose_source.close(abort)

    def __enter__(self) -> Translator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- model ---------------------------------------------------------------------------------

    def _features(self, pose: Pose, path: str | os.PathLike) -> dict[str, np.ndarray]:
        """Every stream the model needs, for the whole pose: ``{name: (T, D)}`` (computed once)."""
        self._report(path, "features", len(pose.body.data), len(pose.body.data))  # the input's frames
        start = time.perf_counter()
        out = {name: view(pose)[0] for name, view in self.views.items()}
        self.timings.add("features", time.perf_counter() - start)
        for name, encoder in self.encoders.items():
            self._report(path, name, 0, 1)
            out[name] = self._encoded(encoder, pose, Path(path))
            self._report(path, name, 1, 1)
        return out

    def _encoded(self, encoder: StreamEncoder, pose: Pose, path: Path) -> np.ndarray:
        """One encoder stream's features, from the cache when this input and encoder were seen before."""
        video = None if path.suffix == ".pose" else path
        # the features' poses: a .pose file's (at the model's frame rate), or extracted with these settings
        key = f"{self.pose_source.key(path)}-{encoder.kind}-{encoder.digest}.npy"
        cached = self.cache.parent / "features" / key
        if cached.is_file():
            self.timings.cached_features = True
            return np.load(cached)
        start = time.perf_counter()
        features = encoder.features(pose, video, path)
        if features.shape != (len(pose.body.data), self.model.config.streams[encoder.name].dim):
            raise InputError(
                path, f"{encoder.name} features have shape {features.shape}: one row per pose frame expected"
            )
        self.timings.add(encoder.name, time.perf_counter() - start)
        make_folder(cached.parent)
        with atomic_output(cached) as tmp, open(tmp, "wb") as f:
            np.save(f, features)
        return features

    def clip_features(
        self, pose: Pose, frames: np.ndarray | None = None, source: str = "live"
    ) -> dict[str, np.ndarray]:
        """Every stream the model needs for one clip given as its pose (and, for an encoder that reads
        video, its RGB ``frames`` ``(T, H, W, 3)``), computed as :meth:`translate` computes a video's, not
        cached: what ``signllava live`` translates each segment from."""
        start = time.perf_counter()
        out = {name: view(pose)[0] for name, view in self.views.items()}
        self.timings.add("features", time.perf_counter() - start)
        for name, encoder in self.encoders.items():
            start = time.perf_counter()
            out[name] = encoder.features(pose, frames, Path(source))
            self.timings.add(name, time.perf_counter() - start)
        return out

    @property
    def reads_video(self) -> bool:
        """Whether some stream the model reads comes from video frames (DINO, MAE), not only poses."""
        return any(e.needs_video for e in self.encoders.values())

    def translate_clip(
        self,
        streams: dict[str, np.ndarray],
        context: Sequence[str] = (),
        name: str = "clip",
        num_beams: int = 5,
        max_new_tokens: int = 100,
        max_context: int = 2,
    ) -> tuple[str, tuple[str, ...] | None]:
        """One clip's translation from its streams ``{name: (T, D)}``, with the last ``max_context`` of
        ``context`` (the previous outputs) as context: the text, and the glosses the model's gloss head
        read (None: it has none). :meth:`translate` runs it on each segment of a video."""
        task = Task(name, "translate", "", None, tuple(context[-max_context:]))
        batch = self._batch([task], [self._clip(streams, 0, None)])
        return self._answer(batch, num_beams, max_new_tokens)[0], self._recognized(batch)[0]

    @staticmethod
    def _clip(features: dict[str, np.ndarray], first: int, last: int | None) -> dict[str, torch.Tensor]:
        return {name: torch.from_numpy(np.ascontiguousarray(f[first:last])) for name, f in features.items()}

    @staticmethod
    def _batch(tasks: Sequence[Task], streams: Sequence[dict]) -> dict:
        from ..data.dataset import SignCollator

        items = [{"sentence": t.sentence, "task": t, "streams": s} for t, s in zip(tasks, streams, strict=True)]
        return SignCollator()(items)

    def _answer(self, batch: dict, num_beams: int, max_new_tokens: int) -> list[str]:
        start = time.perf_counter()
        out = decode(self.model, batch["tasks"], batch["streams"], batch["stream_mask"], num_beams, max_new_tokens)
        self.timings.add("llm", time.perf_counter() - start)
        return out

    def _recognized(self, batch: dict) -> list[tuple[str, ...] | None]:
        """The glosses the first stream's gloss head reads in each clip (the ones ``gloss_prompt``
        shows the LLM); None for each clip when the model has no gloss head."""
        if not self.model.gloss_heads:
            return [None] * len(batch["tasks"])
        first = next(iter(self.model.config.streams))
        return [tuple(g) for g in self.model.recognize(batch["streams"], batch["stream_mask"])[first]]

    def translate(
        self,
        path: str | os.PathLike,
        context: Sequence[str] = (),
        num_beams: int = 5,
        max_new_tokens: int = 100,
        max_context: int = 2,
    ) -> list[Segment]:
        """Translate a video or .pose file; long inputs become several timed segments, each with the
        share of its frames in which a hand was found (:meth:`hands_warning` turns it into a note)."""
        if num_beams < 1 or max_new_tokens < 1:
            raise InputError(None, f"beam size and max_new_tokens must be >= 1, got {num_beams} and {max_new_tokens}")
        self.timings = Timings()
        pose = self.poses(path)
        fps = float(pose.body.fps)
        spans = segment(pose, self.segments)
        if not spans:
            raise InputError(path, "the video has no frames")
        results, previous = [], list(context)
        features = self._features(pose, path)
        frames = len(pose.body.data)
        self._report(path, "decoding", 0, frames)
        hands = hand_found(pose)
        for first, last in spans:
            clip = {name: f[first:last] for name, f in features.items()}
            text, glosses = self.translate_clip(
                clip, previous, f"{Path(path).stem}@{first}", num_beams, max_new_tokens, max_context
            )
            results.append(Segment(first / fps, last / fps, text, glosses, share_found(hands, first, last)))
            if text:
                previous.append(text)
            self._report(path, "decoding", last, frames)
        return results

    def hands_warning(self, segments: Sequence[Segment], source: str | os.PathLike = "") -> str | None:
        """One line saying the translation is unreliable where hands were found in too few frames
        (:class:`~signllava.inference.hands.HandsCheck`) of the video or of some of its segments, else None."""
        return hands_warning(segments, self.hands, str(source))

    def video_hands_warning(self, path: str | os.PathLike) -> str | None:
        """The same note for a whole video as one clip (what :meth:`ask` reads), from its poses."""
        pose = self.poses(path)
        found = share_found(hand_found(pose))
        whole = Segment(0.0, len(pose.body.data) / float(pose.body.fps), "", None, found)
        return hands_warning([whole], self.hands, str(path))

    def ask(self, path: str | os.PathLike, question: str, max_new_tokens: int = 32) -> str:
        """Answer a question about the signing in a video (the whole video as one clip). Only a question
        of a kind the model was trained on is answered (:mod:`signllava.inference.questions`; anything else raises
        an :class:`InputError` that lists the kinds it answers), by the method ``answers`` sets for its
        task (:mod:`signllava.inference.answers`): a word question from the translation :meth:`translate` gives."""
        asked = recognize(question, self.kinds)
        if self.answers.method(asked.task) == "translation":
            segments = self.translate(path, num_beams=self.answers.num_beams)
            return from_translation(asked, " ".join(s.text for s in segments))
        self.timings = Timings()
        pose = self.poses(path)
        task = Task(Path(path).stem, asked.task, "", asked.text)
        streams = self._clip(self._features(pose, path), 0, len(pose.body.data))
        batch = self._batch([task], [streams])
        start = time.perf_counter()
        answer = answer_tasks(
            self.model, batch["tasks"], batch["streams"], batch["stream_mask"], self.answers, max_new_tokens
        )[0]
        self.timings.add("llm", time.perf_counter() - start)
        return answer
