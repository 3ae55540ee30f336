"""The jobs every stage runs as: a preemption signal is recorded, then handed on."""

from __future__ import annotations

from signllava.cluster.stage_jobs import StopFlag


def test_stop_flag_records_usr2_and_restores_the_handler():
    import os
    import signal

    seen = []
    previous = signal.signal(signal.SIGUSR2, lambda s, f: seen.append(s))
    try:
        with StopFlag() as flag:
            assert not flag(0)
            os.kill(os.getpid(), signal.SIGUSR2)
            assert flag(1) and not seen  # recorded, not acted on
            flag.forward()
            assert seen == [signal.SIGUSR2]  # handed on to the handler that was there before
        os.kill(os.getpid(), signal.SIGUSR2)
        assert seen == [signal.SIGUSR2] * 2
    finally:
        signal.signal(signal.SIGUSR2, previous)
