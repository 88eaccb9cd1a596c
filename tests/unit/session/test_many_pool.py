"""session.many's pool: never more workers at once than asked, every Pod once, a stop
leaves the rest unstarted. Pure threading: no API server is involved."""

from __future__ import annotations

import threading
import time

from podscope.rules.many import PodOutcome
from podscope.session.many import _Pool


def test_at_most_size_pods_run_at_once_and_each_runs_once() -> None:
    lock = threading.Lock()
    now = peak = 0
    seen: list[str] = []

    def work(pod: str) -> PodOutcome:
        nonlocal now, peak
        with lock:
            now += 1
            peak = max(peak, now)
            seen.append(pod)
        time.sleep(0.02)
        with lock:
            now -= 1
        return PodOutcome(pod, "ns", "exited", exit_code=0)

    pods = [f"p{n}" for n in range(25)]
    heard: list[str] = []
    pool = _Pool(4, pods, work)
    pool.on_done = lambda outcome: heard.append(outcome.pod)
    pool.start().wait()
    assert peak == 4
    assert sorted(seen) == sorted(pods) and len(seen) == len(pods)
    assert sorted(heard) == sorted(pods)
    assert len(pool.threads) == 4


def test_fewer_pods_than_workers_start_only_as_many_threads() -> None:
    pool = _Pool(10, ["a", "b"], lambda pod: PodOutcome(pod, "ns", "exited", exit_code=0))
    assert len(pool.threads) == 2
    pool.start().wait()
    assert sorted(o.pod for o in pool.done) == ["a", "b"]


def test_a_stop_lets_running_pods_end_and_starts_no_more() -> None:
    started = threading.Event()
    release = threading.Event()

    def work(pod: str) -> PodOutcome:
        started.set()
        release.wait(5)
        return PodOutcome(pod, "ns", "exited", exit_code=0)

    pool = _Pool(2, [f"p{n}" for n in range(10)], work).start()
    assert started.wait(5)
    time.sleep(0.05)
    pool.stop.set()
    with pool.lock:
        running = list(pool.running)
    release.set()
    pool.wait()
    assert len(running) == 2
    assert sorted(o.pod for o in pool.done) == sorted(running)
    assert len(pool.pending) == 8
