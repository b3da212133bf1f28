"""ImageConfig from an image config blob: Docker's fields, tuples, read-only mappings."""

from __future__ import annotations

from pathlib import Path

import pytest

from compose.images.model import Image, ImageConfig


def test_from_docker_config() -> None:
    cfg = ImageConfig.from_json(
        {
            "config": {
                "Entrypoint": "docker-entrypoint.sh",
                "Cmd": ["redis-server"],
                "Env": ["PATH=/usr/bin", "GOSU_VERSION=1.17"],
                "WorkingDir": "/data",
                "User": "999",
                "ExposedPorts": {"6379/tcp": {}, "16379/udp": {}},
                "Volumes": {"/data": {}},
                "Labels": {"maintainer": "x"},
                "StopSignal": "SIGINT",
                "Healthcheck": {"Test": ["CMD", "redis-cli", "ping"], "Interval": 1_000_000_000},
            }
        }
    )
    assert cfg.entrypoint == ("docker-entrypoint.sh",)
    assert cfg.cmd == ("redis-server",)
    assert cfg.env == ("PATH=/usr/bin", "GOSU_VERSION=1.17")
    assert (cfg.working_dir, cfg.user, cfg.stop_signal) == ("/data", "999", "SIGINT")
    assert cfg.exposed_ports == ("16379/udp", "6379/tcp")
    assert cfg.volumes == ("/data",)
    assert cfg.healthcheck is not None and cfg.healthcheck["Test"][0] == "CMD"
    with pytest.raises(TypeError):
        cfg.labels["x"] = "y"  # type: ignore[index]
    assert hash(Image("r", "d", (Path("/l"),), cfg))  # usable as a dict key


def test_empty_config() -> None:
    cfg = ImageConfig.from_json({"config": {"Cmd": None, "Entrypoint": None}})
    assert (cfg.entrypoint, cfg.cmd, cfg.env, cfg.working_dir) == (None, None, (), "")
    assert ImageConfig.from_json({}) == ImageConfig()
