"""TREE → MODEL: ``load_stack(options)`` = the loader's tree, validated into a frozen ``Stack``.

Steps: load the tree (``compose.stackfile``, which also rejects legacy v1 files) → validate
with pydantic (every problem, located, one line each) → cross-reference check (unless
``consistency=False``) → attach warnings (the loader's, then one per unsupported key set).
"""

from __future__ import annotations

from pydantic import ValidationError

from compose.errors import StackValidationError
from compose.gcpause import paused_gc
from compose.model.deploy import SWARM_ONLY_DEPLOY_KEYS
from compose.model.memo import model_input
from compose.model.problems import describe_validation_error, located_lines
from compose.model.stack import Stack
from compose.stackfile import LoadedStack, LoadOptions, SourceMap, load_stack_tree


def load_stack(options: LoadOptions, *, consistency: bool = True) -> Stack:
    """Load and validate the stack named by ``options``; raises ``StackValidationError``."""
    loaded = load_stack_tree(options)
    return stack_from_tree(loaded, consistency=consistency)


def stack_from_tree(loaded: LoadedStack, *, consistency: bool = True) -> Stack:
    with paused_gc():
        return _stack_from_tree(loaded, consistency)


def _stack_from_tree(loaded: LoadedStack, consistency: bool) -> Stack:
    stack = _validate(Stack, loaded)
    if consistency:
        _check_consistency(stack, loaded.source_map)
    warnings = (*loaded.warnings, *unsupported_warnings(stack))
    return stack.model_copy(update={"warnings": warnings})


def _validate(model: type[Stack], loaded: LoadedStack) -> Stack:
    try:
        return model.model_validate(model_input(loaded))
    except ValidationError as exc:
        raise StackValidationError(
            describe_validation_error(exc, model, loaded.source_map)
        ) from None


def _check_consistency(stack: Stack, source_map: SourceMap) -> None:
    problems = stack.consistency_problems()
    if problems:
        raise StackValidationError(located_lines(source_map, problems))


def unsupported_warnings(stack: Stack) -> list[str]:
    """One warning per P2 key that is set: never silently dropped."""
    out = []
    for name, service in stack.services.items():
        out += [
            f"services.{name}.{key}: not supported by pycompose, ignored"
            for key in service.unsupported_keys()
        ]
        deploy = service.deploy
        out += [
            f"services.{name}.deploy.{key}: not supported by pycompose, ignored"
            for key in SWARM_ONLY_DEPLOY_KEYS
            if deploy and key in deploy.model_fields_set
        ]
        driver = service.logging.driver if service.logging else None
        if driver not in (None, "json-file", "local", "none"):
            out.append(
                f"services.{name}.logging.driver: {driver} is not supported by pycompose, "
                "json-file is used"
            )
        update = deploy.update_config if deploy else None
        out += [
            f"services.{name}.deploy.update_config.{key}: not supported by pycompose, ignored"
            for key in sorted(update.model_fields_set - {"order"} if update else ())
        ]
    if stack.models:
        out.append("models: not supported by pycompose, ignored")
    return out
