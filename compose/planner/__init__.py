"""DESIRED + OBSERVED → PLAN. Pure: no kernel, no async; ``up --dry-run`` prints the plan.

- ``actions``: the Plan and its small printable actions;
- ``desired``: DesiredProject/DesiredService/Need and the options of up/down (plain data);
- ``stack``: the one adapter from a model Stack to a DesiredProject;
- ``planner``: ``plan_up(desired, observed, UpOptions)``, ``plan_down(desired, observed,
  DownOptions)``, ``plan_stop``;
- ``hashing``: ``config_hash(service, image_digest=None)``.

Names load on first use: the CLI reaches ``UpOptions`` without the planner proper.
"""

from typing import TYPE_CHECKING

from compose import lazy

if TYPE_CHECKING:
    from compose.planner.actions import Plan, ServiceStep, Wait
    from compose.planner.desired import (
        DesiredProject,
        DesiredService,
        DownOptions,
        Need,
        UpOptions,
    )
    from compose.planner.planner import plan_down, plan_stop, plan_up, selected_services

_LAZY = {
    "Plan": "actions",
    "ServiceStep": "actions",
    "Wait": "actions",
    "DesiredProject": "desired",
    "DesiredService": "desired",
    "DownOptions": "desired",
    "Need": "desired",
    "UpOptions": "desired",
    "plan_down": "planner",
    "plan_stop": "planner",
    "plan_up": "planner",
    "selected_services": "planner",
}


__getattr__ = lazy.attributes(__name__, _LAZY)


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
