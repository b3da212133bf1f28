"""The pycompose error tree. Library code raises these; only ``compose.cli`` prints and exits.

    PycomposeError                  exit 1 (every error: docker compose returns 1 for all of them)
    ├── UserError                   the input is wrong (file, flag, reference)
    │   ├── StackFileNotFound
    │   ├── StackSyntaxError        file:line:col of the bad YAML
    │   ├── InterpolationError
    │   ├── StackValidationError    every problem, one line each
    │   ├── DependencyCycleError    prints the cycle path
    │   ├── UnknownServiceError
    │   ├── NeedsRootError
    │   └── KubeConversionError     `kube convert`: collisions, --strict warnings, --check
    └── OperationError              the input was fine, doing it failed
        ├── ImageError
        ├── BuildError              an image build failed: Dockerfile:LINE or the step
        ├── ContainerError          service/replica/step
        ├── NetworkSetupError
        ├── ProjectLockedError      another pycompose process holds the project
        ├── StateError              unreadable or incompatible state records
        ├── ProjectUpError          several failures from parallel work
        └── StackError              compose.testing: a test stack did not come up / act

Each message is one line: subject, step, cause. An optional ``hint`` goes on its own line.

Exit codes (what CI scripts, and ``compose.testing``, can rely on; docker compose's own):

    0          success
    1          any error: a usage error (unknown flag, bad value, missing argument), a wrong
               file, an unknown service, a failed operation
    N          a container's own exit code: ``up --exit-code-from`` / ``--abort-on-container-
               exit`` / ``--abort-on-container-failure`` (the container that ended it), ``wait``
               (the last one to exit), ``run``, ``exec``
    130        interrupted (Ctrl-C; a foreground ``up`` after its graceful stop)
"""

from __future__ import annotations


class PycomposeError(Exception):
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UserError(PycomposeError):
    pass


class StackFileNotFound(UserError):
    pass


class StackSyntaxError(UserError):
    pass


class InterpolationError(UserError):
    pass


class StackValidationError(UserError):
    """Several problems found while validating; ``problems`` holds one line each."""

    def __init__(self, problems: list[str], *, hint: str | None = None) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems), hint=hint)


class DependencyCycleError(UserError):
    pass


class UnknownServiceError(UserError):
    pass


class NeedsRootError(UserError):
    pass


class KubeConversionError(UserError):
    """The stack does not become valid Kubernetes manifests as asked; one line per problem."""

    def __init__(self, problems: list[str], *, hint: str | None = None) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems), hint=hint)


class OperationError(PycomposeError):
    exit_code = 1


class ImageError(OperationError):
    pass


class BuildError(OperationError):
    """A build failed: a Dockerfile problem (``Dockerfile:12: COPY ...: cause``), a missing
    source, a failing RUN (step, exit code, last output lines). Exit 1, as docker compose."""


class ContainerError(OperationError):
    pass


class NetworkSetupError(OperationError):
    pass


class ProjectLockedError(OperationError):
    pass


class StateError(OperationError):
    pass


class ProjectUpError(OperationError):
    """Every failure of a parallel operation, reported together."""

    def __init__(self, failures: list[str], *, hint: str | None = None) -> None:
        self.failures = list(failures)
        super().__init__("\n".join(self.failures), hint=hint)


class StackError(OperationError):
    """A test stack (``compose.testing.Stack``) failed: its message says which service, its
    state, the last probe output and log lines."""
