"""The `--every SECONDS` loop shared by the long-running commands."""
import os
import signal

import pytest

from xiaoneng.lib import rounds


class Clock:
    """Stands in for time.monotonic and time.sleep: sleeping moves it on at once."""

    def __init__(self):
        self.now, self.naps = 0.0, []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.naps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(rounds.time, "monotonic", fake.monotonic)
    monkeypatch.setattr(rounds.time, "sleep", fake.sleep)
    saved = signal.getsignal(signal.SIGTERM)
    yield fake
    signal.signal(signal.SIGTERM, saved)


def test_without_every_it_runs_one_round():
    done = []
    rounds.repeat(done.append, None)
    assert done == [0]


def test_rounds_come_every_so_many_seconds_in_naps_of_at_most_one_second(clock):
    done = []

    def round_(n):
        done.append((n, clock.now))
        if n == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    rounds.repeat(round_, 2.5)
    assert done == [(0, 0.0), (1, 2.5), (2, 5.0)]
    assert clock.naps == [1.0, 1.0, 0.5, 1.0, 1.0, 0.5]


def test_sigterm_during_a_round_lets_the_round_finish_and_starts_no_other(clock):
    done = []

    def round_(n):
        if n == 1:  # a service manager stops the command while this round runs
            os.kill(os.getpid(), signal.SIGTERM)
        done.append(n)

    rounds.repeat(round_, 5)
    assert done == [0, 1] and sum(clock.naps) == 5


def test_sigterm_while_waiting_ends_the_loop_within_a_nap_not_after_the_whole_wait(clock, monkeypatch):
    real_sleep, done = clock.sleep, []

    def sleep(seconds):
        real_sleep(seconds)
        if clock.now >= 3:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(rounds.time, "sleep", sleep)
    rounds.repeat(done.append, 3600)
    assert done == [0] and clock.now == 3


def test_ctrl_c_while_waiting_ends_the_loop(clock, monkeypatch):
    def interrupted(_seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(rounds.time, "sleep", interrupted)
    done = []
    rounds.repeat(done.append, 5)
    assert done == [0]


def test_the_loop_gives_back_the_sigterm_handler_it_found(clock):
    def mine(*_args):
        pass

    signal.signal(signal.SIGTERM, mine)
    rounds.repeat(lambda n: os.kill(os.getpid(), signal.SIGTERM), 5)
    assert signal.getsignal(signal.SIGTERM) is mine
