"""One HTTP request, paced and retried: the loop every source's client shares.

Transient failures are retried with exponential backoff and jitter
(:func:`sysrev.search.ratelimit.backoff_delay`): HTTP 429 and 5xx (a ``Retry-After`` is a
lower bound on the pause), timeouts, dropped connections, and answers the caller's
``check`` rejects as retryable (truncated JSON or XML, a wrong count). Another HTTP 4xx is
final. A connection refused or unresolvable on the first tries of a retrieval is no network
at all, and stops it at once (:class:`sysrev.search.offline.NoNetwork`).
"""

from __future__ import annotations

import http.client
import logging
import socket
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from sysrev.search.offline import NoNetwork
from sysrev.search.ratelimit import RateLimiter, backoff_delay

log = logging.getLogger(__name__)


class ResponseError(ValueError):
    """An answer that is not what was asked for; ``retryable`` when a second request may
    fix it (cut short, a proxy's HTML page, a wrong count)."""

    def __init__(self, message: str, *, retryable: bool = True, kind: str = "bad answer"):
        super().__init__(message)
        self.retryable = retryable
        self.kind = kind


class RetrievalError(RuntimeError):
    """A server could not give what was asked, after retries; the message says why."""


@dataclass
class RequestStats:
    """Requests sent (by endpoint), retries and what caused them."""

    requests: int = 0
    by_tool: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    retry_reasons: dict[str, int] = field(default_factory=dict)


@dataclass
class Retrying:
    """The retry policy and the state shared by one client's requests."""

    max_tries: int
    timeout: float
    backoff_base: float
    backoff_cap: float
    limiter: RateLimiter
    sleep: Callable[[float], None]
    rng: Any = None
    stats: RequestStats = field(default_factory=RequestStats)
    no_network: NoNetwork | None = None
    scrub: Callable[[str], str] = staticmethod(lambda text: text)
    http_message: Callable[[bytes], str] = staticmethod(
        lambda body: " ".join(body.decode("utf-8", "replace").split())[:120])
    error: type[Exception] = RetrievalError

    def request(self, name: str, build: Callable[[], Request],
                check: Callable[[bytes], Any], what: str) -> Any:
        """Send ``build()`` and return ``check(body)``, retrying transient failures up to
        ``max_tries`` times; ``name`` is the endpoint (for logs and counts)."""
        last = ""
        for attempt in range(1, self.max_tries + 1):
            self.limiter.wait()
            request = build()
            self.stats.requests += 1
            self.stats.by_tool[name] = self.stats.by_tool.get(name, 0) + 1
            retry_after = None
            try:
                with urlopen(request, timeout=self.timeout) as response:
                    body = response.read()
                result = check(body)
                if self.no_network is not None:
                    self.no_network.succeeded()
                return result
            except HTTPError as exc:
                if self.no_network is not None:
                    self.no_network.succeeded()
                try:
                    body = exc.read()
                except Exception:  # the error body itself may be cut short
                    body = b""
                message = self.http_message(body) if body else ""
                reason, kind = f"HTTP {exc.code}" + (f": {message}" if message else ""), \
                    f"HTTP {exc.code}"
                if exc.code != 429 and exc.code < 500:
                    raise self.error(self.scrub(f"{name} {what}: {reason}")) from None
                retry_after = _retry_after(exc.headers.get("Retry-After") if exc.headers
                                           else None)
            except ResponseError as exc:
                if self.no_network is not None:
                    self.no_network.succeeded()
                if not exc.retryable:
                    raise self.error(self.scrub(f"{name} {what}: {exc}")) from None
                reason, kind = str(exc), exc.kind
            except (TimeoutError, socket.timeout):
                reason, kind = f"timed out after {self.timeout:g} s", "timeout"
            except URLError as exc:
                timed_out = isinstance(exc.reason, (TimeoutError, socket.timeout))
                reason = (f"timed out after {self.timeout:g} s" if timed_out
                          else f"connection failed: {exc.reason}")
                kind = "timeout" if timed_out else "connection"
                if self.no_network is not None:
                    self.no_network.failed(exc, self.scrub(reason))
            except (ConnectionError, http.client.HTTPException, OSError) as exc:
                reason, kind = f"connection failed: {type(exc).__name__}: {exc}", "connection"
                if self.no_network is not None:
                    self.no_network.failed(exc, self.scrub(reason))
            last = self.scrub(reason)
            if attempt == self.max_tries:
                break
            delay = backoff_delay(attempt, base=self.backoff_base, cap=self.backoff_cap,
                                  retry_after=retry_after, rng=self.rng)
            self.stats.retries += 1
            self.stats.retry_reasons[kind] = self.stats.retry_reasons.get(kind, 0) + 1
            log.warning("%s %s: %s; retry %d of %d in %.1f s", name, what, last, attempt,
                        self.max_tries - 1, delay)
            self.sleep(delay)
        raise self.error(f"{name} {what}: gave up after {self.max_tries} tries; "
                         f"last answer: {last}")


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
