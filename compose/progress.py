"""What a command did, one object at a time: docker compose's progress lines as data.

    Step("Container", "web-1", "Creating", done=False)   `` Container web-1  Creating``
    Step("Container", "web-1", "Created")                 `` Container web-1  Created``

The executor reports a Step when it begins an action (``done=False``) and when it has done it
(or failed: ``error``), so only what really happens is shown (no ``Created`` for a network
that existed, no ``Started`` for a container that never started). A CLI renderer
(``compose.cli.progress``) turns them into plain lines, a live view or JSON; a request served
by another process carries them back in its reply. Stdlib only: the CLI imports it cheaply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# (working, done) status pairs, as docker compose words them
CREATE = ("Creating", "Created")
START = ("Starting", "Started")
STOP = ("Stopping", "Stopped")
REMOVE = ("Removing", "Removed")
RECREATE = ("Recreate", "Recreated")
RESTART = ("Restarting", "Restarted")
KILL = ("Killing", "Killed")
STOPPING = "Gracefully Stopping... press Ctrl+C again to force"  # a foreground `up`'s Ctrl-C
ABORTING = "Aborting on container exit..."
PAIRS = {done: working for working, done in (CREATE, START, STOP, REMOVE, RESTART, KILL)}
PAIRS[RECREATE[1]] = RECREATE[0]


@dataclass(frozen=True)
class Step:
    kind: str  # Container, Network, Volume, Image
    name: str
    status: str  # Creating, Created, Running, Waiting, Healthy, Exited, Error ...
    done: bool = True  # False while the action runs
    error: bool = False
    text: str = ""  # the cause of an error

    @property
    def id(self) -> str:
        """``Container web-1``; a service's pull is its name alone (`` web Pulled``)."""
        return f"{self.kind} {self.name}" if self.kind else self.name

    def line(self) -> str:
        """The plain form: ``Container web-1  Started`` (docker's two spaces)."""
        tail = f" {self.text}" if self.text else ""
        return f"{self.id}  {self.status}{tail}"


Report = Callable[[Step], None]


class Silent:
    """The output of a caller that shows nothing (a reply says what it needs)."""

    def step(self, step: Step) -> None:
        pass

    def progress(self, line: str) -> None:
        pass

    def log(self, line: str) -> None:
        pass

    def warning(self, text: str) -> None:
        pass


def ignore(step: Step) -> None:
    """The report of a caller that shows nothing (the loop's own restarts)."""


def pair(kind: str, name: str, done_status: str, working: str = "") -> tuple[Step, ...]:
    """The steps of an action already done (a reply's names): ``Stopping``, ``Stopped``;
    only ``Paused`` for a verb docker compose shows no working state of."""
    working = working or PAIRS.get(done_status, "")
    done = Step(kind, name, done_status)
    return (Step(kind, name, working, done=False), done) if working else (done,)
