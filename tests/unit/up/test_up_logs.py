"""Log files: JSON lines → prefixed lines; the tail follows appends and keeps partial lines."""

from __future__ import annotations

import json

from compose.logs import Formatter, LogTail, read_all


def entry(text: str, stream: str = "stdout", time: str = "2026-01-01T00:00:00.5Z") -> str:
    return json.dumps({"log": text + "\n", "stream": stream, "time": time}) + "\n"


def test_read_all_with_tail_and_since(tmp_path):
    path = tmp_path / "c.log"
    path.write_text(entry("a", time="2026-01-01T00:00:00Z") + entry("b") + entry("c"))
    assert [ln.text for ln in read_all("web-1", path, tail=2)] == ["b", "c"]
    assert [ln.text for ln in read_all("web-1", path, since=1767225600.2)] == ["b", "c"]
    assert read_all("web-1", tmp_path / "missing") == []


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
