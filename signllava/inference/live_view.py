"""What ``signllava live --show`` and the notebook's live mode show: each frame with its pose skeleton
and the latest captions drawn over it (OpenCV).

:class:`LiveView` is fed from the pipeline's threads (:meth:`LiveView.frame` from the pose thread,
:meth:`LiveView.caption` from the translation thread) and keeps only the latest frame; whoever shows
it asks :meth:`LiveView.picture` for it, drawn, at its own pace: the CLI's window in the main thread
(:class:`LiveWindow`, as OpenCV's windows want), the notebook's image widget.
"""

from __future__ import annotations

import os
import sys
import threading

import numpy as np

CAPTIONS = 2  # latest captions shown
WINDOW = "signllava live"


def display_problem() -> str | None:
    """Why no window can be shown here, in one line, or None when one can."""
    import cv2

    gui = next((line.split(":", 1)[1].strip() for line in cv2.getBuildInformation().splitlines() if "GUI:" in line), "")
    if gui.upper() in ("", "NONE"):
        return "this OpenCV has no windows (a headless build): install opencv-python to see the video"
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no display here (DISPLAY is not set): run without --show, or where a screen is"
    return None


class LiveView:
    """The latest frame with its skeleton and captions, drawn on request (thread-safe)."""

    def __init__(self, holistic=None, width: int = 960):
        self.holistic = holistic
        self.width = width  # of the drawn picture (frames are scaled down to it)
        self._lock = threading.Lock()
        self._frame: tuple | None = None
        self._captions: list[str] = []
        self._limbs: list[tuple[int, int]] | None = None

    def frame(self, rgb: np.ndarray, data: np.ndarray, conf: np.ndarray, slot: int) -> None:
        """The pipeline's ``on_frame``: keep the newest frame (drawn when asked for)."""
        with self._lock:
            self._frame = (rgb, data, conf)

    def caption(self, text: str) -> None:
        with self._lock:
            self._captions = [*self._captions, text][-CAPTIONS:]

    def picture(self) -> np.ndarray | None:
        """The newest frame, drawn (BGR ``uint8``), or None before the first."""
        import cv2

        with self._lock:
            if self._frame is None:
                return None
            rgb, data, conf = self._frame
            captions = list(self._captions)
        height, width = rgb.shape[:2]
        scale = min(1.0, self.width / width)
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        if scale < 1:
            bgr = cv2.resize(bgr, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        points = np.round(data[:, :2] * scale).astype(np.int32)
        found = conf > 0
        for a, b in self._skeleton(width, height):
            if found[a] and found[b]:
                cv2.line(bgr, tuple(points[a]), tuple(points[b]), (80, 220, 80), 2, cv2.LINE_AA)
        self._draw_captions(bgr, captions)
        return bgr

    def _skeleton(self, width: int, height: int) -> list[tuple[int, int]]:
        """Point pairs to join: body and hands (the face and world landmarks are left out)."""
        if self._limbs is None:
            from pose.config import HolisticConfig
            from pose.holistic import holistic_header

            header = holistic_header(width, height, self.holistic or HolisticConfig())
            limbs, at = [], 0
            for c in header.components:
                if c.name in ("POSE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"):
                    limbs += [(at + a, at + b) for a, b in c.limbs]
                at += len(c.points)
            self._limbs = limbs
        return self._limbs

    @staticmethod
    def _draw_captions(bgr: np.ndarray, captions: list[str]) -> None:
        import cv2

        font, scale, thick = cv2.FONT_HERSHEY_SIMPLEX, max(0.5, bgr.shape[1] / 1400), 1
        y = bgr.shape[0] - 10
        for text in reversed(captions):
            (w, h), base = cv2.getTextSize(text, font, scale, thick)
            cv2.rectangle(bgr, (5, y - h - base - 4), (15 + w, y + 2), (0, 0, 0), -1)
            cv2.putText(bgr, text, (10, y - base), font, scale, (255, 255, 255), thick, cv2.LINE_AA)
            y -= h + base + 10


class LiveWindow:
    """An OpenCV window showing a :class:`LiveView`; :meth:`pump` it from the main thread."""

    def __init__(self, view: LiveView):
        import cv2

        self.view = view
        cv2.namedWindow(WINDOW, cv2.WINDOW_NORMAL)

    def pump(self) -> bool:
        """Show the newest picture; False once the user closed the window or pressed q or Esc."""
        import cv2

        picture = self.view.picture()
        if picture is not None:
            cv2.imshow(WINDOW, picture)
        key = cv2.waitKey(30) & 0xFF
        closed = cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) < 1 if picture is not None else False
        return not (closed or key in (ord("q"), 27))

    def close(self) -> None:
        import cv2

        cv2.destroyWindow(WINDOW)
