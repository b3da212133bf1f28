"""The front door: act on a project (``ProjectClient``), the public Python API of pycompose.

    from compose.project import ProjectClient, UpOptions, DownOptions, RunOptions
    client = ProjectClient(LoadOptions(files=("compose.yaml",), cwd=Path.cwd()))
    client.up(UpOptions(), RunOptions(detach=True, wait=True), out)
    client.exec("web", ["sh", "-c", "echo hi"])
    client.down(DownOptions(remove_volumes=True))

``client`` holds the verbs; ``transport`` takes a request to the running supervisor or serves
it here; ``detached`` starts a supervisor. The way ``up -d`` goes from here down to the kernel
is written in ``compose.supervisor``'s docstring.

Light: importing this imports neither the supervisor's loop nor the model (the CLI's start-up
path goes through it).
"""

from typing import TYPE_CHECKING

from compose import lazy

if TYPE_CHECKING:
    from compose.planner.desired import DownOptions, UpOptions
    from compose.progress import Silent
    from compose.project.client import ProjectClient
    from compose.runtime.usage import Usage
    from compose.stackfile.types import LoadOptions
    from compose.supervisor.oneoff import OneOff
    from compose.supervisor.options import Output, Owner, RunOptions
    from compose.supervisor.protocol import (
        Changed,
        DownReply,
        Exited,
        PlanReply,
        Reply,
        Scaled,
        Snapshotted,
        StatusReply,
    )

_LAZY = {
    "ProjectClient": "compose.project.client",
    "Output": "compose.supervisor.options",
    "UpOptions": "compose.planner.desired",
    "DownOptions": "compose.planner.desired",
    "RunOptions": "compose.supervisor.options",
    "Owner": "compose.supervisor.options",
    "LoadOptions": "compose.stackfile.types",
    "OneOff": "compose.supervisor.oneoff",
    "Changed": "compose.supervisor.protocol",
    "DownReply": "compose.supervisor.protocol",
    "PlanReply": "compose.supervisor.protocol",
    "Reply": "compose.supervisor.protocol",
    "Scaled": "compose.supervisor.protocol",
    "Silent": "compose.progress",
    "Usage": "compose.runtime.usage",
    "Exited": "compose.supervisor.protocol",
    "StatusReply": "compose.supervisor.protocol",
    "Snapshotted": "compose.supervisor.protocol",
}


__getattr__ = lazy.attributes(__name__, _LAZY)


__all__ = [
    "Changed",
    "DownOptions",
    "DownReply",
    "Exited",
    "LoadOptions",
    "OneOff",
    "Output",
    "Owner",
    "PlanReply",
    "ProjectClient",
    "Reply",
    "RunOptions",
    "Scaled",
    "Silent",
    "Snapshotted",
    "StatusReply",
    "UpOptions",
    "Usage",
]
