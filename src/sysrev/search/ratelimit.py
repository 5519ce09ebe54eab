"""Request pacing and retry delays for E-utilities.

NCBI allows 3 requests per second without an API key and 10 with one, and blocks clients
that go faster. :class:`RateLimiter` spaces requests by at least ``1 / rate`` seconds;
:func:`backoff_delay` gives the pause before a retry (exponential, with jitter so that
parallel clients do not retry in step).
"""

from __future__ import annotations

import random
import time
from typing import Callable

#: Requests per second NCBI allows without and with an API key.
RATE_WITHOUT_KEY = 3.0
RATE_WITH_KEY = 10.0


def default_rate(has_api_key: bool) -> float:
    """NCBI's limit: 10 requests/s with an API key, 3 without."""
    return RATE_WITH_KEY if has_api_key else RATE_WITHOUT_KEY


class RateLimiter:
    """At most ``rate`` calls of :meth:`wait` per second (``rate=None``: no limit).

    ``clock`` and ``sleep`` are injectable so that tests check the spacing without waiting.
    """

    def __init__(self, rate: float | None, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 0.0 if rate is None else 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None

    def wait(self) -> float:
        """Block until the next request may go; return the seconds waited."""
        now = self._clock()
        waited = 0.0
        if self._next is not None and now < self._next:
            waited = self._next - now
            self._sleep(waited)
            now = self._next
        self._next = now + self.interval
        return waited


def backoff_delay(attempt: int, *, base: float, cap: float,
                  retry_after: float | None = None,
                  rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (1 for the first retry).

    Exponential backoff ``base * 2**(attempt - 1)``, capped at ``cap``, with "equal jitter"
    (a uniform draw between half and all of it). A server's ``Retry-After`` is a lower bound.
    """
    rng = rng or random
    ceiling = min(cap, base * 2 ** (attempt - 1))
    delay = ceiling / 2 + rng.uniform(0, ceiling / 2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return delay
