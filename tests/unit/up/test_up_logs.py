"""Log files: JSON lines → prefixed lines; the tail follows appends and keeps partial lines."""

from __future__ import annotations

import json

import pytest

from compose.logs import Formatter, LogTail, parse_since, read_all


def entry(text: str, stream: str = "stdout", time: str = "2026-01-01T00:00:00.5Z") -> str:
    return json.dumps({"log": text + "\n", "stream": stream, "time": time}) + "\n"


def test_read_all_with_tail_and_since(tmp_path):
    path = tmp_path / "c.log"
    path.write_text(entry("a", time="2026-01-01T00:00:00Z") + entry("b") + entry("c"))
    assert [ln.text for ln in read_all("web-1", path, tail=2)] == ["b", "c"]
    assert [ln.text for ln in read_all("web-1", path, since=1767225600.2)] == ["b", "c"]
    assert read_all("web-1", tmp_path / "missing") == []
    assert read_all("web-1", path, tail=0) == []  # docker: --tail 0 prints nothing
    assert len(read_all("web-1", path, tail=-1)) == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1767225600", 1767225600.0),
        ("1767225600.25", 1767225600.25),
        ("10m", 1000.0 - 600),
        ("1h30m", 1000.0 - 5400),
        ("1.5s", 998.5),
        ("500ms", 999.5),
        ("2026-01-01", 1767225600.0),
        ("2026-01-01T00:00:01Z", 1767225601.0),
        ("2026-01-01T01:00:01+01:00", 1767225601.0),
        ("2026-01-01T00:00:01.5Z", 1767225601.5),
    ],
)
def test_since_reads_what_docker_reads(text, expected):
    assert parse_since(text, now=1000.0) == pytest.approx(expected)


def test_since_rejects_garbage_with_the_accepted_forms():
    with pytest.raises(ValueError, match="duration"):
        parse_since("yesterday", now=0)


def test_tail_follows_appends_and_partial_lines(tmp_path):
    path = tmp_path / "c.log"
    path.write_text(entry("one"))
    tail = LogTail()
    tail.add("db-1", path)
    assert [ln.text for ln in tail.poll()] == ["one"]
    raw = entry("two")
    with open(path, "a") as handle:
        handle.write(raw[:10])
    assert tail.poll() == []
    with open(path, "a") as handle:
        handle.write(raw[10:])
    assert [ln.text for ln in tail.poll()] == ["two"]


def test_formatter_prefixes_and_pads():
    from compose.logs import LogLine

    fmt = Formatter(["web-1", "redis-1"], color=False)
    assert fmt.format(LogLine("web-1", "hi")) == "web-1    | hi"
    colored = Formatter(["web-1"]).format(LogLine("web-1", "hi"))
    assert colored.startswith("\x1b[36mweb-1  |\x1b[0m hi")
    assert Formatter(prefix=False).format(LogLine("web-1", "hi")) == "hi"


def test_tail_reads_a_file_replaced_under_its_name_from_its_start(tmp_path):
    """A replica removed and made again (`rm` + `scale`) writes a new file at the same path."""
    path = tmp_path / "c.log"
    path.write_text(entry("old one") + entry("old two"))
    tail = LogTail()
    tail.add("web-1", path)
    assert [ln.text for ln in tail.poll()] == ["old one", "old two"]
    path.unlink()
    path.write_text(entry("new"))  # another inode, shorter than what was read
    assert [ln.text for ln in tail.poll()] == ["new"]
    with open(path, "a") as handle:
        handle.write(entry("newer"))
    assert [ln.text for ln in tail.poll()] == ["newer"]
    path.write_text(entry("x"))  # truncated in place
    assert [ln.text for ln in tail.poll()] == ["x"]


def test_formatter_status_lines_are_docker_s():
    assert Formatter(color=False).status("web-1", "exited with code 0") == (
        "web-1 exited with code 0"
    )
    assert Formatter().status("web-1", "exited with code 3").startswith("\x1b[36mweb-1 exited")


def test_follow_waits_for_the_supervisor_to_record_an_exit(tmp_path, capsys, monkeypatch):
    """`logs -f` ends once every followed replica has exited for good. A replica whose process
    just died but whose supervisor has not yet written the outcome (exit code, restart) is not
    an end: under load that gap let `logs -f` end while docker's kept following the restart."""
    from compose.cli.commands import logs as cmd
    from compose.state import ObservedProject, ObservedReplica
    from compose.state.records import ReplicaRecord

    log = tmp_path / "crash.log"
    log.write_text("")
    running = ReplicaRecord("p", "crash", 1, status="running", pid=1, log_path=str(log))
    restarting = ReplicaRecord(
        "p", "crash", 1, status="exited", pid=1, exit_code=3, restarting=True, log_path=str(log)
    )
    remade = restarting.replace(status="created", pid=2)  # its new process not started yet
    gone = ReplicaRecord("p", "crash", 1, status="exited", pid=1, exit_code=3, log_path=str(log))
    views = [
        ObservedReplica(running, alive=False),  # died, outcome not recorded yet
        ObservedReplica(restarting, alive=False),
        ObservedReplica(remade, alive=True),
        ObservedReplica(running, alive=True),
        ObservedReplica(running, alive=False),
        ObservedReplica(gone, alive=False),  # the policy gave up: the end
    ]
    seen: list[ObservedReplica] = []

    class Project:
        def observe(self) -> ObservedProject:
            seen.append(views[min(len(seen), len(views) - 1)])
            return ObservedProject("p", None, (seen[-1],), supervisor_pid=1)

    monkeypatch.setattr(cmd.time, "sleep", lambda _s: None)
    fmt = Formatter(["crash-1"], color=False)
    cmd._follow(Project(), (), None, {"crash-1": log}, fmt, LogTail)  # type: ignore[arg-type]
    assert len(seen) == len(views)
    assert capsys.readouterr().out.splitlines() == ["crash-1 exited with code 3"]
