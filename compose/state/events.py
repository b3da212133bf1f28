"""A project's event log (``events.jsonl``): what its supervisor did and saw, one JSON object
per line (``time``, ``action``, ``container``, ``service``, ``project`` and the action's own
fields). The supervisor appends; ``pycompose events`` follows it by byte offset."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from compose.state.layout import events_path

Event = dict[str, Any]


@dataclass(frozen=True, slots=True)
class EventLine:
    text: str  # the line as written (``events --json`` prints it unchanged)
    event: Event


class EventLog:
    def __init__(self, project: str) -> None:
        self.project = project
        self.path = events_path(project)

    def append(self, event: Event) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a") as handle:
            handle.write(json.dumps({"project": self.project, **event}) + "\n")

    def read_from(self, offset: int) -> tuple[list[EventLine], int]:
        """The complete lines after byte ``offset``, and the offset after them."""
        try:
            with open(self.path) as handle:
                handle.seek(offset)
                data = handle.read()
        except FileNotFoundError:
            return [], offset
        complete, _, _ = data.rpartition("\n")
        lines = [EventLine(text, json.loads(text)) for text in filter(None, complete.split("\n"))]
        return lines, offset + len(complete) + (1 if complete else 0)
