"""Using a trained model on videos: translate and ask (``translator``), poses and encoder streams on the fly
(``pose_source``, ``encoders``), segmenting long videos and their subtitles, batches, progress bars.

It imports :mod:`signllava.model` and :mod:`signllava.data`, never training, evaluation or
:mod:`signllava.cluster`: ``tests/test_imports.py`` holds that.
"""
