"""The `--every SECONDS` loop shared by the long-running commands."""
import os
import signal

from xiaoneng.lib import rounds


def test_without_every_it_runs_one_round():
    done = []
    rounds.repeat(done.append, None)
    assert done == [0]


def test_sigterm_ends_the_loop_after_the_round_it_arrived_in(monkeypatch):
    naps, done = [], []
    monkeypatch.setattr(rounds.time, "sleep", naps.append)
    saved = signal.getsignal(signal.SIGTERM)
    try:
        def round_(n):
            done.append(n)
            if n == 2:  # a service manager stops the command while this round runs
                os.kill(os.getpid(), signal.SIGTERM)

        rounds.repeat(round_, 5)
    finally:
        signal.signal(signal.SIGTERM, saved)
    assert done == [0, 1, 2] and naps == [5, 5]


def test_ctrl_c_while_waiting_ends_the_loop(monkeypatch):
    def interrupted(_seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(rounds.time, "sleep", interrupted)
    saved = signal.getsignal(signal.SIGTERM)
    done = []
    try:
        rounds.repeat(done.append, 5)
    finally:
        signal.signal(signal.SIGTERM, saved)
    assert done == [0]
