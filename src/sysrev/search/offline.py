"""Telling "no network" from a flaky network, for every source's retrieval.

Retries are for a network that drops a request now and then. A machine with no network at
all (a hospital or cluster node) refuses or cannot resolve every connection; retrying that
for minutes helps nobody. :class:`NoNetwork` counts such failures: once the first
``tries`` requests of a retrieval have all failed that way, it raises :class:`NoNetworkError`
naming the source, the search date and the README section on the offline route
(:data:`OFFLINE_SECTION`), within seconds.
"""

from __future__ import annotations

import errno
import socket
from urllib.error import URLError

#: Where the README explains how to update a review on a machine without internet.
OFFLINE_SECTION = "README.md, section 'Updating without internet (the offline route)'"

#: OS errors that mean the machine cannot reach the server at all.
_UNREACHABLE = {errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN,
                errno.EHOSTDOWN, errno.EADDRNOTAVAIL}


class NoNetworkError(RuntimeError):
    """No connection could be made on any try: the machine has no network (or the server's
    address is wrong). The message says which source and date, and what to do instead."""


def is_unreachable(exc: BaseException) -> bool:
    """True when ``exc`` says the connection could not be made at all (refused, no route,
    name not resolved), as opposed to a timeout, a dropped connection or an HTTP error."""
    reason = exc.reason if isinstance(exc, URLError) and not hasattr(exc, "code") else exc
    if isinstance(reason, socket.gaierror):
        return True
    if isinstance(reason, ConnectionRefusedError):
        return True
    return isinstance(reason, OSError) and reason.errno in _UNREACHABLE


def no_network_message(source: str, search_date: str | None, url: str,
                       snapshot_dir: str | None, detail: str) -> str:
    """The message of a retrieval stopped for lack of network."""
    where = f" into {snapshot_dir}" if snapshot_dir else ""
    return (f"{source}: no network: every connection to {url} failed ({detail}), so the "
            f"search of {search_date or 'the configured date'} cannot be retrieved{where}. "
            "It has no snapshot on this machine. Retrieve it on a machine with internet "
            "(snakemake retrieve --cores 1) and copy the new snapshot folder into this "
            f"review's data folder; see {OFFLINE_SECTION}.")


class NoNetwork:
    """Counts connection failures at the start of a retrieval.

    ``tries`` unreachable answers in a row before any request succeeded mean no network.
    Once one request has gone through, later failures are a flaky network and are retried
    as usual.
    """

    def __init__(self, source: str, search_date: str | None, url: str,
                 snapshot_dir: str | None = None, *, tries: int = 2):
        self.source, self.search_date, self.url = source, search_date, url
        self.snapshot_dir = snapshot_dir
        self.tries = tries
        self.failures = 0
        self.connected = False

    def succeeded(self) -> None:
        self.connected = True

    def failed(self, exc: BaseException, detail: str) -> None:
        """Note a failed request; raise :class:`NoNetworkError` when it means no network."""
        if self.connected:
            return
        if not is_unreachable(exc):
            self.failures = 0
            return
        self.failures += 1
        if self.failures >= self.tries:
            raise NoNetworkError(no_network_message(self.source, self.search_date, self.url,
                                                    self.snapshot_dir, detail)) from None
