"""The coordinator's in-process event aggregator: events in, handlers subscribed by type."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any, TypeVar

from workers.coordinator.events import Event

E = TypeVar("E", bound=Event)


class MessageBus:
    """Delivers each event to its handlers, then the events they raised, in order.

    Handlers are plain functions: they run in the coordinator's single processing loop, so
    they need no locks and keep per-sensor order.
    """

    def __init__(self) -> None:
        self._handlers: dict[type[Any], list[Callable[[Any], None]]] = defaultdict(list)
        self._pending: deque[Event] = deque()

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> None:
        self._handlers[event_type].append(handler)

    def emit(self, event: Event) -> None:
        """Raise an event from inside a handler; it is delivered after the current one."""
        self._pending.append(event)

    def handle(self, event: Event) -> None:
        self._pending.append(event)
        while self._pending:
            current = self._pending.popleft()
            for handler in self._handlers.get(type(current), ()):
                handler(current)
