"""Pauses between retries, in one place: exponential growth, a cap, jitter, limits.

Every loop that retries something that failed (a lost watch, a write that lost a race, a
broken attach stream) waits longer after each failure in a row, so a struggling API server
is not hammered, and gives up after a number of attempts or a span of time. :class:`Backoff`
is the pause schedule, a pure value; :class:`Retry` counts the failures of one loop, decides
when to give up and sleeps. The clock, the sleep and the random source are injectable so
that tests run without waiting; by default they are looked up in :mod:`time` and
:mod:`random` at each call (so a test that patches ``time.sleep`` is heard too).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """The pause after the n-th failure in a row (n from 0): ``first * factor**n``, at most
    ``cap``; with ``jitter`` j (0..1), a random value between ``(1 - j)`` times that and that."""

    first: float
    factor: float = 2.0
    cap: float | None = None
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if self.first < 0 or self.factor < 1 or not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"invalid backoff {self!r}")
        if self.cap is not None and self.cap < 0:
            raise ValueError(f"invalid backoff cap {self.cap!r}")

    def delay(self, n: int, rng: Callable[[], float] | None = None) -> float:
        """Seconds to pause after failure number ``n`` (0 for the first); ``rng`` returns a
        float in [0, 1) and is used only when there is jitter."""
        if n < 0:
            raise ValueError(f"failure number must be 0 or more, not {n}")
        try:
            pause = self.first * self.factor**n
        except OverflowError:  # a very long run of failures: the cap (if any) decides
            pause = math.inf if self.first > 0 else 0.0
        if self.cap is not None:
            pause = min(pause, self.cap)
        if self.jitter:
            draw = (rng or random.random)()
            pause *= 1.0 - self.jitter + self.jitter * draw
        return pause


# Writes that lost a race (409 Conflict, a generated name taken meanwhile): 0.05 to 0.2 s,
# then doubling, random so that concurrent writers stop colliding.
WRITE_CONFLICT = Backoff(first=0.2, jitter=0.75)


class Retry:
    """The failures in a row of one retry loop, and the pauses between them.

    ``attempts`` bounds the pauses granted in a row; ``within`` bounds the seconds since the
    first failure in a row; either being used up ends the retries. ``deadline`` (a clock
    time) shortens every pause so that none ends after it; it does not end the retries.
    :meth:`reset` after a success: the next failure starts a new run from the first pause.
    """

    def __init__(
        self,
        backoff: Backoff,
        *,
        attempts: int | None = None,
        within: float | None = None,
        deadline: float | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        rng: Callable[[], float] | None = None,
    ) -> None:
        if attempts is not None and attempts < 0:
            raise ValueError(f"attempts must be 0 or more, not {attempts}")
        self.backoff = backoff
        self.attempts = attempts
        self.within = within
        self.deadline = deadline
        self._clock = clock
        self._sleep = sleep
        self._rng = rng
        self._failures = 0
        self._since: float | None = None

    @property
    def failures(self) -> int:
        """Pauses granted since the last success (or the start)."""
        return self._failures

    def now(self) -> float:
        return (self._clock or time.monotonic)()

    def reset(self) -> None:
        self._failures = 0
        self._since = None

    def next_pause(self) -> float | None:
        """Count a failure and return the pause before the next attempt, or ``None`` (and
        count nothing) when the attempts or the time span are used up."""
        now = self.now()
        if self._since is None:
            self._since = now
        if self.attempts is not None and self._failures >= self.attempts:
            return None
        if self.within is not None and now - self._since > self.within:
            return None
        pause = self.backoff.delay(self._failures, self._rng or random.random)
        self._failures += 1
        if self.deadline is not None:
            pause = max(0.0, min(pause, self.deadline - now))
        return pause

    def sleep(self, seconds: float) -> None:
        (self._sleep or time.sleep)(seconds)

    def wait(self) -> bool:
        """Pause before the next attempt and return True, or return False at once when the
        retries are used up."""
        pause = self.next_pause()
        if pause is None:
            return False
        self.sleep(pause)
        return True
