"""The config path stays light: no kernel, network or async libraries get imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

STACK = (
    Path(__file__).resolve().parents[3].parent
    / "shared/corpus/awesome-compose/flask-redis/compose.yaml"
)
HEAVY = (
    "pyroute2",
    "httpx",
    "anyio",
    "rich",
    "compose.runtime",
    "netplug",
    "compose.supervisor",
)

PROBE = """
import sys
from compose.cli import run
code = run(sys.argv[1:])
heavy = [m for m in {heavy!r} if m in sys.modules]
print("HEAVY", heavy, "CODE", code, file=sys.stderr)
"""


def _probe(*args: str, heavy: tuple[str, ...] = HEAVY) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=heavy), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stderr.strip().splitlines()[-1]


def test_config_imports_nothing_heavy() -> None:
    assert _probe("-f", str(STACK), "config") == "HEAVY [] CODE 0"


def test_help_imports_nothing_heavy() -> None:
    assert _probe("--help") == "HEAVY [] CODE 0"


def test_config_of_named_services_imports_nothing_heavy() -> None:
    assert _probe("-f", str(STACK), "config", "web") == "HEAVY [] CODE 0"


def test_everyday_commands_import_nothing_heavy_nor_pydantic() -> None:
    """ps, ls, logs and version read state records, never the typed model (issue 17)."""
    for args in (["version"], ["ls"], ["-f", str(STACK), "ps"], ["-p", "nothing", "logs"]):
        assert _probe(*args, heavy=(*HEAVY, "pydantic")) == "HEAVY [] CODE 0", args
