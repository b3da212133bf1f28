"""Multi-file merge (-f a -f b) with compose's per-field rules, !reset and !override."""

from __future__ import annotations

from pathlib import Path

from stackfile_helpers import load

BASE = """
services:
  web:
    image: web:1
    command: ["run", "base"]
    entrypoint: /bin/sh -c
    environment: {A: "1", B: "2"}
    labels: [x=1]
    ports: ["8080:80", "9000:9000"]
    expose: ["1000"]
    dns: [1.1.1.1]
    volumes: ["./a:/data", "logs:/logs"]
    secrets: [s1]
    networks: {front: {aliases: [w]}}
    healthcheck: {test: ["CMD", "true"], interval: 10s}
    logging: {driver: json-file, options: {max-size: 1m}}
    ulimits: {nofile: {soft: 1, hard: 2}}
    x-meta: {a: 1}
"""
OVERRIDE = """
services:
  web:
    image: web:2
    command: run override
    environment: [B=3, C]
    labels: {y: "2"}
    ports: ["8080:80", "7000:7000"]
    expose: ["1000", "2000"]
    dns: 8.8.8.8
    volumes: ["./b:/data:ro"]
    secrets: [{source: s2, target: /run/secrets/s1}]
    networks: {front: {aliases: [w2]}, back: null}
    healthcheck: {test: "curl -f localhost"}
    logging: {options: {max-file: "3"}}
    ulimits: {nofile: 5}
    x-meta: {b: 2}
"""


def test_stackfile_merge_per_field_rules(tmp_path: Path) -> None:
    stack = load(tmp_path, {"a.yml": BASE, "b.yml": OVERRIDE}, files=("a.yml", "b.yml"))
    web = stack.tree["services"]["web"]
    assert web["image"] == "web:2"
    assert web["command"] == ["run", "override"]  # replaced, not appended
    assert web["entrypoint"] == ["/bin/sh", "-c"]
    assert web["environment"] == {"A": "1", "B": "3", "C": None}
    assert web["labels"] == {"x": "1", "y": "2"}
    assert [(p["published"], p["target"]) for p in web["ports"]] == [
        ("8080", 80), ("9000", 9000), ("7000", 7000)
    ]  # fmt: skip
    assert web["expose"] == ["1000", "2000"]
    assert web["dns"] == ["1.1.1.1", "8.8.8.8"]
    assert [(v["source"], v["target"], v.get("read_only")) for v in web["volumes"]] == [
        (str(tmp_path / "b"), "/data", True), ("logs", "/logs", None)
    ]  # fmt: skip
    assert web["secrets"] == [{"source": "s2", "target": "/run/secrets/s1"}]
    assert web["networks"] == {"front": {"aliases": ["w", "w2"]}, "back": None}
    assert web["healthcheck"] == {"test": ["CMD-SHELL", "curl -f localhost"], "interval": "10s"}
    assert web["logging"] == {"driver": "json-file", "options": {"max-size": "1m", "max-file": "3"}}
    assert web["ulimits"] == {"nofile": 5}
    assert web["x-meta"] == {"a": 1, "b": 2}  # x-* mappings merge like the rest (compose-go)


def test_stackfile_merge_logging_other_driver_replaces(tmp_path: Path) -> None:
    files = {
        "a.yml": "services: {s: {image: i, logging: {driver: json-file, options: {a: '1'}}}}",
        "b.yml": "services: {s: {logging: {driver: syslog}}}",
    }
    stack = load(tmp_path, files, files=("a.yml", "b.yml"))
    assert stack.tree["services"]["s"]["logging"] == {"driver": "syslog"}


def test_stackfile_merge_reset_and_override(tmp_path: Path) -> None:
    files = {
        "a.yml": """
            services:
              s:
                image: i
                ports: ["80:80"]
                environment: {A: "1", B: "2"}
                depends_on: [db]
              db: {image: db}
        """,
        "b.yml": """
            services:
              s:
                ports: !reset []
                environment: !override {C: "3"}
                depends_on: !reset null
        """,
    }
    stack = load(tmp_path, files, files=("a.yml", "b.yml"))
    svc = stack.tree["services"]["s"]
    assert "ports" not in svc
    assert svc["environment"] == {"C": "3"}
    assert "depends_on" not in svc


def test_stackfile_merge_new_service_and_top_level(tmp_path: Path) -> None:
    files = {
        "a.yml": "services: {a: {image: a}}\nvolumes: {data: {}}\n",
        "b.yml": "services: {b: {image: b}}\nvolumes: {data: {driver: local}, more: null}\n",
    }
    stack = load(tmp_path, files, files=("a.yml", "b.yml"), project_name="p")
    assert set(stack.tree["services"]) == {"a", "b"}
    assert stack.tree["volumes"] == {
        "data": {"driver": "local", "name": "p_data"},
        "more": {"name": "p_more"},
    }


def test_stackfile_merge_paths_relative_to_first_file(tmp_path: Path) -> None:
    files = {
        "proj/compose.yaml": "services: {s: {image: i}}",
        "other/extra.yaml": "services: {s: {volumes: ['./data:/data']}}",
    }
    stack = load(tmp_path, files, files=("proj/compose.yaml", "other/extra.yaml"))
    assert stack.tree["services"]["s"]["volumes"][0]["source"] == str(tmp_path / "proj" / "data")
    assert stack.working_dir == tmp_path / "proj"


def test_stackfile_merge_source_map_points_at_later_file(tmp_path: Path) -> None:
    files = {"a.yml": "services:\n  s:\n    image: a\n", "b.yml": "services:\n  s:\n    image: b\n"}
    stack = load(tmp_path, files, files=("a.yml", "b.yml"))
    assert str(stack.source_map.locate(("services", "s", "image"))) == "b.yml:3:5"


def test_stackfile_unicity_applies_within_one_file_too(tmp_path: Path) -> None:
    text = """
        services:
          s:
            image: i
            ports: ["80:80", "80:80", "127.0.0.1:80:80"]
            volumes: ["vol:/x", "./b:/x"]
            cap_add: [NET_ADMIN, NET_ADMIN]
            secrets: [s1, {source: s2, target: /run/secrets/s1}]
    """
    svc = load(tmp_path, {"compose.yaml": text}).tree["services"]["s"]
    assert [(p.get("host_ip"), p["published"]) for p in svc["ports"]] == [
        (None, "80"), ("127.0.0.1", "80")
    ]  # fmt: skip
    assert svc["volumes"] == [
        {"type": "bind", "source": str(tmp_path / "b"), "target": "/x", "bind": {}}
    ]  # fmt: skip
    assert svc["cap_add"] == ["NET_ADMIN"]
    assert svc["secrets"] == [{"source": "s2", "target": "/run/secrets/s1"}]


NET = "name: t\nnetworks:\n  test:\n    name: test\n    external: true\n"


def test_stackfile_reset_removes_network(tmp_path: Path) -> None:
    """compose-go TestResetRemove."""
    files = {"a.yml": NET, "b.yml": "networks:\n  test: !reset {}\n"}
    stack = load(tmp_path, files, files=("a.yml", "b.yml"), normalize=False)
    assert "test" not in stack.tree.get("networks", {})


def test_stackfile_override_replaces_network(tmp_path: Path) -> None:
    """compose-go TestOverrideReplace."""
    files = {"a.yml": NET, "b.yml": "networks:\n  test: !override {}\n"}
    stack = load(tmp_path, files, files=("a.yml", "b.yml"), normalize=False)
    assert stack.tree["networks"]["test"] == {}


def test_stackfile_merge_null_keeps_base_and_positional_merge(tmp_path: Path) -> None:
    files = {
        "a.yml": """
            services:
              s:
                image: base
                volumes:
                  - {type: volume, source: a, target: /a}
                  - {type: volume, source: b, target: /b}
        """,
        "b.yml": """
            services:
              s:
                image: null
                volumes: !merge [{}, {read_only: true}]
        """,
    }
    svc = load(tmp_path, files, files=("a.yml", "b.yml")).tree["services"]["s"]
    assert svc["image"] == "base"
    assert svc["volumes"] == [
        {"type": "volume", "source": "a", "target": "/a"},
        {"type": "volume", "source": "b", "target": "/b", "read_only": True},
    ]


def test_stackfile_merge_ipam_pools_by_subnet(tmp_path: Path) -> None:
    files = {
        "a.yml": "networks: {n: {ipam: {config: [{subnet: 10.1.0.0/24}, {subnet: 10.2.0.0/24}]}}}",
        "b.yml": "networks: {n: {ipam: {config: [{subnet: 10.1.0.0/24, gateway: 10.1.0.254}]}}}",
    }
    net = load(tmp_path, files, files=("a.yml", "b.yml"), normalize=False).tree["networks"]["n"]
    assert net["ipam"]["config"] == [
        {"subnet": "10.1.0.0/24", "gateway": "10.1.0.254"}, {"subnet": "10.2.0.0/24"}
    ]  # fmt: skip
