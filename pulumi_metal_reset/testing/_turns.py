"""The engine's main loop, as far as step generation goes: one event at a time, in arrival order.

The engine reads the program's registrations from one channel and generates each one's steps
(Check, the policy packs, Diff, the plan and target checks) before it reads the next
(``deploymentExecutor.Execute``, ``handleSingleEvent``; ``sg.diff`` calls Diff inline unless
``PULUMI_PARALLEL_DIFF`` is set). Only the steps' execution runs in parallel. After a bail, or
once a step has failed, the loop reads no more events, so a registration that was still waiting
gets no step (see ``_services.py`` for what the program is told).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Turns"]


class Turns:
    """Tickets in arrival order; one holder at a time generates steps."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._next = 0
        self._serving = 0
        self._held = threading.local()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for the turn of an event that arrives now; it ends at `done` or on leaving."""
        with self._changed:
            ticket = self._next
            self._next += 1
            self._changed.wait_for(lambda: self._serving == ticket)
        self._held.ticket = ticket
        try:
            yield
        finally:
            self.done()

    def done(self) -> None:
        """This thread's steps are generated: the next event may go on while they execute.
        Idempotent, and a no-op outside a turn."""
        ticket = getattr(self._held, "ticket", None)
        if ticket is None:
            return
        self._held.ticket = None
        with self._changed:
            self._serving = ticket + 1
            self._changed.notify_all()
