"""Restart policy decisions, exactly as Docker's restart manager (pure).

- ``no``: never; ``always``: always; ``unless-stopped``: like always, except after a manual
  stop; ``on-failure[:N]``: on a non-zero exit while ``restart_count < N`` (N=0: unlimited).
- A manual stop/kill is never restarted.
- Backoff: the delay starts at 0; on each exit, if the replica ran ≥ 10 s the delay resets to 0;
  then 0 → 100 ms, else x2, clamped at 60 s: 0.1, 0.2, 0.4 … 51.2, 60, 60 …
- ``deploy.restart_policy.delay`` and ``window`` (docker compose ignores both; pycompose
  applies them as swarm does, since the file asks for them): ``delay`` is the fixed wait
  before each restart instead of the backoff; with ``window``, ``max_attempts`` counts only
  the restarts of the last ``window`` seconds (a replica that fails rarely keeps restarting).
"""

from __future__ import annotations

from dataclasses import dataclass

BACKOFF_START = 0.1
BACKOFF_MAX = 60.0
RESET_AFTER = 10.0


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    name: str = "no"  # no | always | on-failure | unless-stopped
    max_attempts: int = 0
    delay: float | None = None  # fixed wait before a restart (else Docker's backoff)
    window: float | None = None  # max_attempts counts restarts of the last `window` seconds

    @classmethod
    def parse(cls, text: str | None, max_attempts: int | None = None) -> RestartPolicy:
        """``restart:`` strings and ``deploy.restart_policy.condition`` (none|on-failure|any)."""
        if not text:
            return cls()
        name, _, count = text.partition(":")
        name = {"none": "no", "any": "always"}.get(name, name)
        attempts = max_attempts if max_attempts is not None else int(count or 0)
        return cls(name, attempts)


def should_restart(
    policy: RestartPolicy, exit_code: int | None, restart_count: int, manually_stopped: bool
) -> bool:
    if manually_stopped or policy.name == "no":
        return False
    if policy.name in ("always", "unless-stopped"):
        return True
    if policy.name == "on-failure":
        failed = exit_code != 0
        within = policy.max_attempts == 0 or restart_count < policy.max_attempts
        return failed and within
    return False


def attempts(policy: RestartPolicy, restart_count: int, restarts: list[float], now: float) -> int:
    """The restarts ``max_attempts`` is compared with: all, or those within ``window``."""
    if not policy.window:
        return restart_count
    return sum(1 for at in restarts if now - at < policy.window)


def next_delay(policy: RestartPolicy, previous: float, ran_for: float) -> float:
    """The wait before the next restart: ``delay`` when given, else Docker's backoff."""
    if policy.delay is not None:
        return policy.delay
    return next_backoff(previous, ran_for)


def next_backoff(previous: float, ran_for: float) -> float:
    if ran_for >= RESET_AFTER:
        previous = 0.0
    if previous == 0.0:
        return BACKOFF_START
    return min(previous * 2, BACKOFF_MAX)
