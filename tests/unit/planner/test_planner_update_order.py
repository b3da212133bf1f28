"""Which recreations start the successor first: `up --dry-run` says it per replica."""

from __future__ import annotations

from pathlib import Path

import pytest

from compose.model import load_stack
from compose.planner.stack import starts_first
from compose.stackfile import LoadOptions


def order(tmp_path: Path, body: str) -> bool:
    text = "services:\n  web:\n    image: busybox\n" + body + "volumes: {data: {}}\n"
    (tmp_path / "compose.yaml").write_text(text)
    stack = load_stack(LoadOptions(files=(str(tmp_path / "compose.yaml"),), cwd=tmp_path))
    return starts_first(stack.services["web"])


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", True),
        ("    ports: ['8000:80']\n", True),  # the service's DNAT serves both meanwhile
        ("    volumes: ['./code:/code', 'data:/ro:ro']\n", True),  # binds, read-only volumes
        ("    volumes: ['data:/var/lib/db']\n", False),  # two writers on one data dir
        ("    volumes: ['/var/lib/db']\n", False),  # an anonymous volume is kept too
        ("    network_mode: host\n", False),
        ("    networks: {default: {ipv4_address: 172.30.9.9}}\n", False),
        ("    mac_address: 02:42:ac:11:00:02\n", False),
        ("    deploy: {update_config: {order: stop-first}}\n", False),
        ("    volumes: ['data:/d']\n    deploy: {update_config: {order: start-first}}\n", True),
    ],
)
def test_start_first_unless_two_copies_would_clash(tmp_path: Path, body: str, expected: bool):
    assert order(tmp_path, body) is expected


def warnings_for(tmp_path: Path, body: str) -> list[str]:
    from compose.model.load import unsupported_warnings

    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: busybox\n" + body)
    stack = load_stack(LoadOptions(files=(str(tmp_path / "compose.yaml"),), cwd=tmp_path))
    return unsupported_warnings(stack)


def test_update_config_order_is_no_longer_warned_about(tmp_path: Path):
    body = "    deploy: {update_config: {order: start-first, parallelism: 2}}\n"
    assert warnings_for(tmp_path, body) == [
        "services.web.deploy.update_config.parallelism: not supported by pycompose, ignored"
    ]


def test_an_image_volume_makes_it_stop_first_unless_the_service_mounts_over_it(tmp_path: Path):
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    image: busybox\n  db:\n    image: redis\n"
        "    volumes: ['./data:/data']\n"
    )
    stack = load_stack(LoadOptions(files=(str(tmp_path / "compose.yaml"),), cwd=tmp_path))
    assert starts_first(stack.services["web"], ("/data",)) is False
    assert starts_first(stack.services["db"], ("/data/",)) is True  # a bind covers it


def test_an_unsupported_logging_driver_is_warned_about(tmp_path: Path):
    body = "    logging: {driver: syslog}\n  ok:\n    image: busybox\n    logging: {driver: none}\n"
    assert warnings_for(tmp_path, body) == [
        "services.web.logging.driver: syslog is not supported by pycompose, json-file is used"
    ]
