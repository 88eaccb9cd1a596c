"""The one backoff helper: schedules, caps, jitter, limits, deadlines (fake clock and sleep)."""

from __future__ import annotations

import math
import time

import pytest

from podscope.backoff import WRITE_CONFLICT, Backoff, Retry


class FakeTime:
    """A clock that only moves when slept on (or when a test moves it)."""

    def __init__(self, start: float = 100.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.slept.append(seconds)
        self.now += seconds


def drain(r: Retry, limit: int = 100) -> None:
    """Fail every attempt until the retries are used up (a bounded loop: a broken limit
    fails the test instead of hanging it)."""
    for _ in range(limit):
        if not r.wait():
            return
    raise AssertionError(f"still retrying after {limit} failures")


def retry(backoff: Backoff, fake: FakeTime, **kwargs: object) -> Retry:
    return Retry(backoff, clock=fake.clock, sleep=fake.sleep, **kwargs)  # type: ignore[arg-type]


# --- Backoff: the schedule ----------------------------------------------------------------


def test_doubles_from_the_first_pause() -> None:
    assert [Backoff(0.5).delay(n) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 8.0]


def test_other_factor() -> None:
    assert [Backoff(1.0, factor=3.0).delay(n) for n in range(4)] == [1.0, 3.0, 9.0, 27.0]


def test_factor_one_is_constant() -> None:
    assert {Backoff(0.3, factor=1.0).delay(n) for n in range(10)} == {0.3}


def test_cap_holds_from_where_it_is_reached() -> None:
    b = Backoff(0.5, cap=4.0)
    assert [b.delay(n) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert Backoff(0.5, cap=3.0).delay(2) == 2.0
    assert Backoff(0.5, cap=3.0).delay(3) == 3.0


def test_cap_below_first_pause_wins() -> None:
    assert Backoff(5.0, cap=1.0).delay(0) == 1.0


def test_a_long_run_neither_overflows_nor_takes_long() -> None:
    start = time.monotonic()
    assert Backoff(0.5, cap=4.0).delay(10**6) == 4.0
    assert time.monotonic() - start < 1.0
    assert Backoff(0.5).delay(5000) == math.inf
    assert Backoff(0.0).delay(5000) == 0.0


def test_jitter_spans_the_fraction_below_the_pause() -> None:
    b = Backoff(0.2, jitter=0.75)
    assert b.delay(0, rng=lambda: 0.0) == pytest.approx(0.05)
    assert b.delay(0, rng=lambda: 0.5) == pytest.approx(0.125)
    assert b.delay(0, rng=lambda: 0.999999) == pytest.approx(0.2, rel=1e-5)
    assert b.delay(3, rng=lambda: 0.0) == pytest.approx(0.4)
    assert b.delay(3, rng=lambda: 0.999999) == pytest.approx(1.6, rel=1e-5)


def test_jitter_applies_after_the_cap() -> None:
    b = Backoff(1.0, cap=2.0, jitter=0.5)
    assert b.delay(10, rng=lambda: 0.0) == pytest.approx(1.0)
    assert b.delay(10, rng=lambda: 0.999999) == pytest.approx(2.0, rel=1e-5)


def test_no_jitter_never_draws() -> None:
    def boom() -> float:
        raise AssertionError("drew a random number without jitter")

    assert Backoff(1.0).delay(2, rng=boom) == 4.0


def test_default_random_source_stays_in_bounds() -> None:
    for n in range(6):
        for _ in range(200):
            pause = WRITE_CONFLICT.delay(n)
            assert 0.05 * 2**n <= pause <= 0.2 * 2**n


def test_write_conflict_matches_the_old_formula() -> None:
    # random.uniform(0.05, 0.2) * 2**attempt, as the conflict retries always paused.
    for u in (0.0, 0.3, 0.9):
        for attempt in range(4):
            assert WRITE_CONFLICT.delay(attempt, rng=lambda u=u: u) == pytest.approx(
                (0.05 + 0.15 * u) * 2**attempt
            )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"first": -1.0},
        {"first": 1.0, "factor": 0.5},
        {"first": 1.0, "jitter": 1.5},
        {"first": 1.0, "jitter": -0.1},
        {"first": 1.0, "cap": -1.0},
    ],
)
def test_nonsense_schedules_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)


def test_negative_failure_number_is_refused() -> None:
    with pytest.raises(ValueError):
        Backoff(1.0).delay(-1)


# --- Retry: counting, limits, deadline ----------------------------------------------------


def test_attempts_bound_the_pauses_in_a_row() -> None:
    fake = FakeTime()
    r = retry(Backoff(0.5), fake, attempts=5)
    drain(r)
    assert fake.slept == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert r.failures == 5
    # Used up: it stays used up, counts nothing more, and sleeps no more.
    assert r.next_pause() is None and r.failures == 5
    assert fake.slept == [0.5, 1.0, 2.0, 4.0, 8.0]


def test_zero_attempts_never_pauses() -> None:
    fake = FakeTime()
    r = retry(Backoff(1.0), fake, attempts=0)
    assert r.wait() is False and fake.slept == [] and r.failures == 0


def test_negative_attempts_are_refused() -> None:
    with pytest.raises(ValueError):
        Retry(Backoff(1.0), attempts=-1)


def test_reset_starts_a_new_run() -> None:
    fake = FakeTime()
    r = retry(Backoff(0.5), fake, attempts=2)
    assert r.wait() and r.wait() and not r.wait()
    r.reset()
    assert r.failures == 0
    assert r.wait()
    assert fake.slept == [0.5, 1.0, 0.5]


def test_within_bounds_the_time_since_the_first_failure() -> None:
    fake = FakeTime()
    r = retry(Backoff(0.5, cap=4.0), fake, within=10.0)
    drain(r)
    # 0.5 + 1 + 2 + 4 = 7.5 s, then 4 more reach 11.5 > 10: the next failure gives up.
    assert fake.slept == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert fake.now - 100.0 == pytest.approx(11.5)


def test_within_is_inclusive_at_its_end() -> None:
    fake = FakeTime()
    r = retry(Backoff(1.0, factor=1.0), fake, within=2.0)
    assert r.next_pause() == 1.0  # t=0: the run starts
    fake.now += 2.0
    assert r.next_pause() == 1.0  # exactly 2 s later: still within
    fake.now += 0.001
    assert r.next_pause() is None


def test_within_counts_from_the_first_failure_not_from_construction() -> None:
    fake = FakeTime()
    r = retry(Backoff(1.0), fake, within=5.0)
    fake.now += 1000.0  # a long success before the first failure
    assert r.next_pause() == 1.0


def test_reset_restarts_the_time_span() -> None:
    fake = FakeTime()
    r = retry(Backoff(1.0, factor=1.0), fake, within=3.0)
    assert r.next_pause() is not None
    fake.now += 2.0
    r.reset()
    fake.now += 2.0  # 4 s after the first failure, 2 s after the reset
    assert r.next_pause() is not None
    fake.now += 3.5
    assert r.next_pause() is None


def test_deadline_shortens_pauses_but_does_not_end_retries() -> None:
    fake = FakeTime(start=0.0)
    r = retry(Backoff(1.0), fake, deadline=2.5)
    assert r.next_pause() == 1.0
    fake.now = 2.0
    assert r.next_pause() == pytest.approx(0.5)  # 2 s wanted, 0.5 s left
    fake.now = 3.0
    assert r.next_pause() == 0.0  # past the deadline: never a negative pause
    assert r.failures == 3


def test_attempts_and_within_together_first_limit_wins() -> None:
    fake = FakeTime()
    r = retry(Backoff(10.0, factor=1.0), fake, attempts=10, within=15.0)
    drain(r)
    assert fake.slept == [10.0, 10.0]


def test_jitter_uses_the_injected_random_source() -> None:
    fake = FakeTime()
    draws = iter([0.0, 0.999999, 0.5])
    r = retry(Backoff(0.2, jitter=0.75), fake, rng=lambda: next(draws))
    pauses = [r.next_pause() for _ in range(3)]
    assert pauses == pytest.approx([0.05, 0.4, 0.5], rel=1e-5)


def test_defaults_are_looked_up_at_each_call(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    monkeypatch.setattr(time, "monotonic", lambda: 42.0)
    r = Retry(Backoff(0.25), within=1.0)
    assert r.now() == 42.0
    assert r.wait()
    assert slept == [0.25]
