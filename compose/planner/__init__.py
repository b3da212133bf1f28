"""DESIRED + OBSERVED → PLAN. Pure: no kernel, no async; ``up --dry-run`` prints the plan.

- ``actions``: the Plan and its small printable actions;
- ``desired``: DesiredProject/DesiredService (plain data built by ``compose.project``);
- ``planner``: ``plan_up(desired, observed, UpOptions)`` and ``plan_down(desired, observed,
  DownOptions)``;
- ``hashing`` (helper B): ``config_hash(service, image_digest=None)``.
"""

from compose.planner.actions import Plan, ServiceStep, Wait
from compose.planner.desired import (
    DesiredProject,
    DesiredService,
    DownOptions,
    Need,
    UpOptions,
)
from compose.planner.planner import plan_down, plan_stop, plan_up, selected_services

__all__ = [
    "DesiredProject",
    "DesiredService",
    "DownOptions",
    "Need",
    "Plan",
    "ServiceStep",
    "UpOptions",
    "Wait",
    "plan_down",
    "plan_stop",
    "plan_up",
    "selected_services",
]
