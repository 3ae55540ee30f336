"""Seconds per stage of one ``translate`` or ``ask`` call, and whether poses and features came from the cache."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Timings:
    """Seconds spent per stage of the last call (for ``--verbose``)."""

    stages: dict[str, float] = field(default_factory=dict)
    cached_poses: bool = False
    cached_features: bool = False

    def add(self, stage: str, seconds: float) -> None:
        self.stages[stage] = self.stages.get(stage, 0.0) + seconds

    def total(self) -> float:
        return sum(self.stages.values())

    def summary(self) -> str:
        total = self.total()
        parts = ", ".join(f"{k} {v:.2f} s" for k, v in self.stages.items())
        cached = [what for what, hit in (("poses", self.cached_poses), ("features", self.cached_features)) if hit]
        return f"{parts}; total {total:.2f} s" + (f" ({' and '.join(cached)} from cache)" if cached else "")
