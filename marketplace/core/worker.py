"""The loop of a long-running command (``flask outbox run``, ``flask sync run``).

SIGTERM and SIGINT end it after the step in hand, so nothing is left half-done; SIGKILL
ends it at once, and what it had claimed is taken over when the claims' leases expire.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

log = logging.getLogger(__name__)


class Stop:
    """Set by SIGTERM or SIGINT; the loop checks it between steps and while it waits."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        log.info("received %s; stopping after the current step", signal.Signals(signum).name)
        self.event.set()

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True when a stop was asked for meanwhile."""
        return self.event.wait(seconds)


def run_until_stopped(
    name: str, step: Callable[[], int], *, interval: float, once: bool = False
) -> int:
    """Run ``step`` (it returns how much it did) until stopped; with ``once``, one pass.

    An idle step waits ``interval`` seconds before the next; a busy one goes on at once.
    Returns the total ``step`` reported.
    """
    stop = Stop()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    total = 0
    log.info("%s started", name)
    try:
        while not stop.requested:
            try:
                done = step()
            except Exception:  # a database hiccup must not end the worker
                log.exception("%s: step failed; trying again in %s s", name, interval)
                done = 0
            total += done
            if once:
                break
            if not done and stop.wait(interval):
                break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("%s stopped after handling %d", name, total)
    return total
