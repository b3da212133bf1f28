"""The monitor's pure parts: json-file log lines, exit status, OOM counters."""

from __future__ import annotations

import json
import os
from pathlib import Path

from compose.runtime import ContainerSpec
from compose.runtime.etcfiles import ensure_etc_files, resolv_conf
from compose.runtime.monitor import MAX_LINE, LogWriter, exit_status, oom_kills, timestamp


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_log_writer_splits_lines_and_long_chunks(tmp_path: Path):
    path = tmp_path / "log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    w = LogWriter(fd)
    w.feed("stdout", b"one\ntw")
    w.feed("stderr", b"err\n")
    w.feed("stdout", b"o\n" + b"x" * (MAX_LINE + 5))
    w.flush("stdout")
    os.close(fd)
    got = [(d["stream"], d["log"]) for d in _lines(path)]
    assert got == [
        ("stdout", "one\n"),
        ("stderr", "err\n"),
        ("stdout", "two\n"),
        ("stdout", "x" * MAX_LINE),
        ("stdout", "xxxxx"),
    ]


def test_timestamp_is_rfc3339_with_nanoseconds():
    assert timestamp(1_700_000_000_123_456_789) == "2023-11-14T22:13:20.123456789Z"


def test_exit_status_codes(tmp_path: Path):
    oom = tmp_path / "memory.oom_control"
    oom.write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
    killed = exit_status(9, str(oom))  # raw wait status: killed by SIGKILL
    assert (killed["code"], killed["signal"], killed["oom_killed"]) == (137, 9, True)
    normal = exit_status(3 << 8, str(tmp_path / "missing"))
    assert (normal["code"], normal["signal"], normal["oom_killed"]) == (3, None, False)
    assert oom_kills(str(tmp_path / "missing")) == 0


HOST_RESOLV = "nameserver 127.0.0.53\nnameserver 10.0.0.1\nsearch example\noptions edns0\n"


def test_resolv_conf_drops_loopback_nameservers():
    assert resolv_conf(HOST_RESOLV) == "search example\nnameserver 10.0.0.1\noptions edns0\n"
    assert resolv_conf(HOST_RESOLV, host_network=True) == HOST_RESOLV  # the host's, as is


def test_resolv_conf_on_user_networks_names_docker_resolver():
    """What docker writes (checked against dockerd 20.10): 127.0.0.11 only, the host's search
    and options unless the service sets its own, ndots:0 added unless ndots is set."""
    embedded = resolv_conf(HOST_RESOLV, nameserver="127.0.0.11")
    assert embedded == "search example\nnameserver 127.0.0.11\noptions edns0 ndots:0\n"
    own = resolv_conf(
        HOST_RESOLV,
        nameserver="127.0.0.11",
        dns=["192.0.2.53"],
        search=["example.org"],
        options=["timeout:2"],
    )
    assert own == "search example.org\nnameserver 127.0.0.11\noptions timeout:2 ndots:0\n"
    bare = resolv_conf("nameserver 10.255.255.53\n", nameserver="127.0.0.11")
    assert bare == "nameserver 127.0.0.11\noptions ndots:0\n"
    assert "ndots:0" not in resolv_conf("", nameserver="127.0.0.11", options=["ndots:2"])
    assert resolv_conf(HOST_RESOLV, dns=["192.0.2.53"]).splitlines()[1] == "nameserver 192.0.2.53"


def test_etc_files_are_generated_only_where_missing(tmp_path: Path):
    own = tmp_path / "hosts"
    spec = ContainerSpec(
        id="p-s-1",
        layers=(tmp_path,),
        replica_dir=tmp_path / "r",
        argv=("true",),
        hostname="h1",
        etc_files=(("/etc/hosts", own),),
    )
    files = dict(ensure_etc_files(spec))
    assert files["/etc/hosts"] == own
    assert files["/etc/hostname"].read_text() == "h1\n"
    assert "/etc/resolv.conf" in files


def test_log_rotation_keeps_max_file_files_of_max_size_and_logs_reads_them_in_order(tmp_path):
    """logging: {max-size, max-file} as docker's json-file: <log>, <log>.1, ... oldest dropped;
    `logs` reads the kept files oldest first."""
    from compose.logs import read_all, remove_log

    path = tmp_path / "web-1.log"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    w = LogWriter(fd, str(path), (200, 3))
    for i in range(40):
        w.feed("stdout", f"line {i}\n".encode())
    os.close(fd)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["web-1.log", "web-1.log.1", "web-1.log.2"]
    assert all(p.stat().st_size <= 200 for p in tmp_path.iterdir())
    kept = [ln.text for ln in read_all("web-1", path)]
    assert kept == [f"line {i}" for i in range(40 - len(kept), 40)] and 0 < len(kept) < 40
    remove_log(path)
    assert list(tmp_path.iterdir()) == []


def test_a_follower_loses_no_line_across_a_rotation(tmp_path):
    """logs -f: the lines written between two polls and rotated away are still shown."""
    from compose.logs import LogTail

    path = tmp_path / "web-1.log"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    w = LogWriter(fd, str(path), (300, 2))
    tail = LogTail()
    tail.add("web-1", path)
    seen: list[str] = []
    for i in range(60):
        w.feed("stdout", f"line {i}\n".encode())
        if i % 3 == 0:  # at least one poll per rotation (4 lines a file)
            seen += [ln.text for ln in tail.poll()]
    seen += [ln.text for ln in tail.poll()]
    os.close(fd)
    assert seen == [f"line {i}" for i in range(60)]
