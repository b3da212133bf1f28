"""Building for real: RUN in containers of pycompose's runtime, COPY/ADD/WORKDIR layers, the
cache, the image config, and what a layer must never contain."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import threading
import time
from pathlib import Path

import pytest

from compose.build.executor import Builder
from compose.build.progress import Progress
from compose.errors import BuildError
from compose.images.layertar import is_whiteout


class Recording(Progress):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, str]] = []

    def changed(self, v, event, text="") -> None:  # type: ignore[no-untyped-def]
        self.events.append((event, v.name))

    def states(self) -> dict[str, str]:
        return {v.name: v.state for v in self.vertices}


def test_run_copy_workdir_and_the_cache(build, store) -> None:
    dockerfile = (
        "FROM BUSYBOX\nARG V=1\nENV GREETING=hi\nWORKDIR /app\nCOPY a.txt sub ./\n"
        'RUN echo "$GREETING $V" > /app/out && rm /bin/ping\nCMD ["cat", "/app/out"]\n'
    )
    files = {"a.txt": "hello\n", "sub/x": "x\n"}
    first = build(dockerfile, files)
    assert first.read("/app/out") == "hi 1\n"
    assert first.read("/app/a.txt") == "hello\n" and first.read("/app/x") == "x\n"
    assert first.stat("/bin/ping") is None  # the RUN's deletion is a whiteout in its layer
    run_layer = Path(first.image.layers[-1])
    assert is_whiteout(os.lstat(run_layer / "usr/bin/ping"))
    leaked = ["etc/hosts", "etc/resolv.conf", "etc/hostname", "etc"]
    assert [p for p in leaked if os.path.lexists(run_layer / p)] == []
    assert first.config["config"]["Cmd"] == ["cat", "/app/out"]
    assert first.config["config"]["WorkingDir"] == "/app"
    created_by = [h["created_by"] for h in first.config["history"][2:]]
    assert created_by[-3:] == [
        "COPY a.txt sub ./ # buildkit",
        'RUN |1 V=1 /bin/sh -c echo "$GREETING $V" > /app/out && rm /bin/ping # buildkit',
        'CMD ["cat" "/app/out"]',
    ]
    progress = Recording()
    again = build(dockerfile, files, builder=Builder(store, progress))
    assert again.result.digest == first.result.digest
    assert again.result.cached == again.result.steps == 3
    changed = build(dockerfile, {**files, "a.txt": "bye\n"}, builder=Builder(store, progress))
    assert changed.result.cached == 1  # WORKDIR; COPY and RUN run again
    assert changed.read("/app/a.txt") == "bye\n"


def test_mtime_alone_does_not_miss_but_mode_does(build, tmp_path: Path) -> None:
    dockerfile = "FROM BUSYBOX\nCOPY f /f\n"
    first = build(dockerfile, {"f": "same\n"})
    os.utime(tmp_path / "ctx" / "f", (1, 1))
    assert build(dockerfile).result.cached == 1
    os.chmod(tmp_path / "ctx" / "f", 0o600)
    second = build(dockerfile)
    assert second.result.cached == 0 and second.result.digest != first.result.digest
    assert (second.stat("/f").st_mode & 0o777) == 0o600


def test_copy_rules(build, tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "dir" / "nested").mkdir(parents=True)
    (ctx / "dir" / "nested" / "n").write_text("n")
    (ctx / "dir" / "link").symlink_to("nested/n")
    (ctx / "top-link").symlink_to("dir/nested/n")
    built = build(
        "FROM BUSYBOX\nCOPY dir /contents\nCOPY dir/nested/n /into/\nCOPY dir/nested/n /as-file\n"
        "COPY top-link /followed\nCOPY nomatch* /empty/\nCOPY ../../dir/nested/n /cleaned\n"
        "COPY --chown=65534:65534 --chmod=600 dir/nested/n /owned\n"
        "COPY --chown=nobody dir/nested/n /by-name\nCOPY --chmod=u=rwx,go=rx dir/nested/n /sym\n"
    )
    assert built.read("/contents/nested/n") == "n"
    assert built.root.lstat("/contents/dir") is None  # a directory copies its contents
    assert built.read("/into/n") == "n" and built.read("/as-file") == "n"
    assert os.path.islink(built.root.lstat("/contents/link")[0])  # nested symlinks are kept
    followed = built.stat("/followed")
    assert followed is not None and not os.path.islink(built.root.lstat("/followed")[0])
    assert built.stat("/empty") is None  # an empty wildcard match is no error (and no dir)
    assert built.read("/cleaned") == "n"  # ../ cannot leave the context
    owned = built.stat("/owned")
    assert (owned.st_uid, owned.st_gid, owned.st_mode & 0o7777) == (65534, 65534, 0o600)
    assert (built.stat("/by-name").st_uid, built.stat("/by-name").st_gid) == (65534, 65534)
    assert built.stat("/sym").st_mode & 0o777 == 0o755
    assert (built.stat("/contents/nested/n").st_uid, built.stat("/contents/nested/n").st_gid) == (
        0,
        0,
    )


def test_a_copy_of_many_files_writes_each_with_its_content_mode_and_time(
    build, tmp_path: Path
) -> None:
    # 300 files: written by two threads (compose.build.threads.in_two_halves); the second
    # source writes over 20 of the first's, which then take the general path
    files = {f"tree/d{i % 6}/e{i % 4}/f{i:03d}": f"content {i}\n" for i in range(300)}
    files.update({f"over/d{i % 6}/e{i % 4}/f{i:03d}": f"over {i}\n" for i in range(0, 300, 15)})
    ctx = tmp_path / "ctx"
    for rel, text in files.items():
        (ctx / rel).parent.mkdir(parents=True, exist_ok=True)
        (ctx / rel).write_text(text)
        os.chmod(ctx / rel, 0o640 if rel.endswith("7") else 0o644)
        os.utime(ctx / rel, ns=(1_000_000_000, 1_000_000_000 + len(rel)))
    built = build("FROM BUSYBOX\nCOPY tree over /all/\n")
    for i in range(300):
        rel = f"d{i % 6}/e{i % 4}/f{i:03d}"
        source = ctx / ("over" if i % 15 == 0 else "tree") / rel
        assert built.read(f"/all/{rel}") == source.read_text()
        st, want = built.stat(f"/all/{rel}"), os.stat(source)
        assert (st.st_mode, st.st_mtime_ns, st.st_uid, st.st_gid) == (
            want.st_mode,
            want.st_mtime_ns,
            0,
            0,
        ), rel


def test_dockerignore_hides_files_and_the_error_names_the_rule(build) -> None:
    files = {
        ".dockerignore": "secret*\n!secret-ok\n",
        "secret.txt": "s",
        "secret-ok": "ok",
        "a": "a",
    }
    built = build("FROM BUSYBOX\nCOPY . /ctx\n", files)
    assert built.stat("/ctx/secret.txt") is None and built.read("/ctx/secret-ok") == "ok"
    with pytest.raises(
        BuildError, match=r'"secret.txt": not found: excluded by \.dockerignore:1: secret\*'
    ):
        build("FROM BUSYBOX\nCOPY secret.txt /x\n")


def test_multi_stage_skips_unused_stages_and_copies_from_earlier_ones(build) -> None:
    built = build(
        "FROM BUSYBOX AS gen\n"
        "RUN mkdir /out && echo generated > /out/file && chown 65534 /out/file\n"
        "FROM BUSYBOX AS unused\nRUN exit 1\n"
        "FROM scratch\nCOPY --from=gen /out /app\nCOPY --from=0 /bin/busybox /bin/busybox\n"
    )
    assert built.read("/app/file") == "generated\n"
    assert built.stat("/app/file").st_uid == 65534  # --from keeps owners
    assert len(built.image.layers) == 2
    assert built.config["config"]["WorkingDir"] == "/"


def test_run_mounts(build, tmp_path: Path) -> None:
    dockerfile = (
        "FROM BUSYBOX\n"
        "RUN --mount=type=cache,target=/cache sh -c"
        " 'echo $(( $(cat /cache/n 2>/dev/null || echo 0) + 1 )) > /cache/n"
        "; cp /cache/n /count'\n"
        "RUN --mount=type=bind,source=data,target=/data"
        " cat /data/d > /copied && ! touch /data/d 2>/dev/null\n"
        "RUN --mount=type=secret,id=tok,required cat /run/secrets/tok > /leaked-on-purpose\n"
        "RUN --mount=type=tmpfs,target=/scratch touch /scratch/x && ! test -e /x\n"
    )
    built = build(dockerfile, {"data/d": "bound\n"}, secrets={"tok": b"s3cret"})
    assert built.read("/count") == "1\n"
    assert built.read("/copied") == "bound\n"
    assert built.stat("/data") is None and built.stat("/cache") is None  # mount stubs removed
    assert built.stat("/run/secrets/tok") is None and built.stat("/scratch") is None
    assert built.read("/leaked-on-purpose") == "s3cret"
    # secret contents are not in the key: another value is still a cache hit
    again = build(dockerfile, secrets={"tok": b"other"})
    assert again.result.cached == again.result.steps


def test_add_extracts_local_archives_and_refuses_escapes(build, tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    with tarfile.open(ctx / "app.tar.gz", "w:gz") as tar:
        data = b"inside\n"
        info = tarfile.TarInfo("pkg/file")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    built = build("FROM BUSYBOX\nADD app.tar.gz /opt/\nCOPY app.tar.gz /kept/\n")
    assert built.read("/opt/pkg/file") == "inside\n"
    assert built.stat("/kept/app.tar.gz") is not None  # COPY never extracts
    with tarfile.open(ctx / "evil.tar", "w") as tar:
        info = tarfile.TarInfo("../../escape")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(BuildError, match="outside"):
        build("FROM BUSYBOX\nADD evil.tar /opt/\n")
    assert not (tmp_path / "escape").exists()


def test_add_url_with_checksum(build, tmp_path: Path) -> None:
    import http.server

    body = b"downloaded\n"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/files/tool.txt"
        good = "sha256:" + hashlib.sha256(body).hexdigest()
        built = build(f"FROM BUSYBOX\nADD --checksum={good} {url} /dl/\n")
        st = built.stat("/dl/tool.txt")
        assert built.read("/dl/tool.txt") == "downloaded\n"
        assert st.st_mode & 0o777 == 0o600 and int(st.st_mtime) == 1445412480
        bad = "sha256:" + "0" * 64
        with pytest.raises(BuildError, match="digest mismatch"):
            build(f"FROM BUSYBOX\nADD --checksum={bad} {url} /dl/\n")
    finally:
        server.shutdown()


def test_failing_run_names_step_exit_code_and_last_lines(build) -> None:
    with pytest.raises(BuildError) as err:
        build("FROM BUSYBOX\nRUN echo first; echo last words; exit 3\n", name="web")
    text = str(err.value)
    assert "[web 2/2] RUN echo first; echo last words; exit 3" in text
    assert "exit code 3" in text and "last words" in text


def test_context_symlink_outside_is_refused(build, tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "passwd").symlink_to("/etc/passwd")
    (ctx / "up").symlink_to("../../..")
    with pytest.raises(BuildError, match="outside the build context"):
        build("FROM BUSYBOX\nCOPY passwd /x\n")
    with pytest.raises(BuildError, match="outside the build context"):
        build("FROM BUSYBOX\nCOPY up/etc/passwd /x\n")


def test_run_filling_the_disk_is_stopped(build, monkeypatch: pytest.MonkeyPatch, store) -> None:
    vfs = os.statvfs(store.root)
    free = vfs.f_bavail * vfs.f_frsize
    monkeypatch.setenv("PYCOMPOSE_BUILD_DISK_RESERVE", str(free - (64 << 20)))
    with pytest.raises(BuildError, match="MiB free"):
        build("FROM BUSYBOX\nRUN dd if=/dev/zero of=/big bs=1M count=100000\n")


def test_fork_bomb_is_stopped(build, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYCOMPOSE_BUILD_PIDS_MAX", "64")
    monkeypatch.setattr("compose.build.runstep.FORK_BOMB_SECONDS", 1.0)
    with pytest.raises(BuildError, match="process limit"):
        build("FROM BUSYBOX\nRUN while true; do sleep 5 & done\n")
    # one that never gives up is stopped once it keeps the limit full
    with pytest.raises(BuildError, match="process limit"):
        build("FROM BUSYBOX\nRUN while true; do (sleep 5 &) 2>/dev/null || true; done\n")


def test_cancel_leaves_nothing_and_the_next_build_reuses_finished_steps(build, store) -> None:
    dockerfile = "FROM BUSYBOX\nRUN echo done > /first\nRUN sleep 60\n"
    progress = Recording()
    builder = Builder(store, progress)
    errors: list[BaseException] = []

    def go() -> None:
        try:
            build(dockerfile, builder=builder)
        except BaseException as err:
            errors.append(err)

    thread = threading.Thread(target=go)
    thread.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(
        "sleep 60" in v.name and v.state == "running" for v in progress.vertices
    ):
        time.sleep(0.1)
    builder.cancel.set()
    thread.join(30)
    assert not thread.is_alive()
    root = os.environ["PYCOMPOSE_CGROUP_ROOT"]
    cgroups = [p for p in Path("/sys/fs/cgroup").glob(f"*/{root}/build/*") if p.is_dir()]
    assert cgroups == []
    progress2 = Recording()
    with pytest.raises(BuildError):
        build(
            "FROM BUSYBOX\nRUN echo done > /first\nRUN exit 1\n", builder=Builder(store, progress2)
        )
    assert [v.state for v in progress2.vertices if "echo done" in v.name] == ["cached"]


def test_run_mount_ssh_forwards_the_agent_socket(build, tmp_path: Path) -> None:
    """`RUN --mount=type=ssh` (build: ssh: [default]): the agent's socket inside the RUN at
    BuildKit's path with SSH_AUTH_SOCK naming it; nothing of it in the image; `required`
    without an agent is an error naming it. (busybox has no unix-socket client for a round
    trip: the socket's presence is what the RUN can check.)"""
    import socket

    agent_path = tmp_path / "agent.sock"
    with socket.socket(socket.AF_UNIX) as agent:
        agent.bind(str(agent_path))
        agent.listen(1)
        built = build(
            "FROM BUSYBOX\n"
            "RUN --mount=type=ssh"
            " sh -c 'test -S \"$SSH_AUTH_SOCK\" && echo $SSH_AUTH_SOCK > /sock'\n",
            ssh={"default": str(agent_path)},
        )
    assert built.read("/sock") == "/run/buildkit/ssh_agent.0\n"
    assert built.stat("/run/buildkit/ssh_agent.0") is None  # the mount stub is not in a layer
    with pytest.raises(Exception, match='ssh agent "default" is required'):
        build("FROM BUSYBOX\nRUN --mount=type=ssh,required true\n", no_cache=True)
