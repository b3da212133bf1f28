"""The host boundary through the real CLI (the security review, gaps 2-6, 11 and 13, and its "what
is solid" probes): each test tries the attack as a user would and asserts on the host."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from e2e_helpers import Cli, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(240)]

NOBODY = 65534
BASIC = "services:\n  a:\n    image: IMAGE\n    command: SLEEP\n"


def _as_nobody(code: str) -> str:
    """Run ``code`` in a fresh interpreter as uid/gid 65534: what another local user can do."""
    python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
    proc = subprocess.run(
        [python, "-I", "-c", code],
        capture_output=True,
        text=True,
        user=NOBODY,
        group=NOBODY,
        extra_groups=[],
        cwd="/",
        timeout=30,
    )
    return proc.stdout.strip() + proc.stderr.strip()[-300:]


# gap 2: cp ---------------------------------------------------------------------------------
def test_cp_resolves_container_symlinks_inside_the_container(project, tmp_path):
    target = tmp_path / "cp-target"  # a host dir the container aims at
    target.mkdir()
    cli = Cli(
        project,
        file=write_stack(tmp_path, BASIC),
    )
    cli.run("up", "-d")
    plant = (
        "echo container-shadow > /etc/shadow; ln -s / /hostroot; "
        f"ln -s /etc/shadow /tmp/shadowlink; ln -s {target} /tmp/dst"
    )
    cli.run("exec", "-T", "a", "sh", "-c", plant)
    cli.run("cp", "a:/hostroot/etc/shadow", str(tmp_path / "out1"))
    assert (tmp_path / "out1").read_text() == "container-shadow\n"  # not the host's
    cli.run("cp", "-L", "a:/tmp/shadowlink", str(tmp_path / "out2"))
    assert (tmp_path / "out2").read_text() == "container-shadow\n"
    cli.run("cp", "a:/tmp/shadowlink", str(tmp_path / "out3"))
    assert os.readlink(tmp_path / "out3") == "/etc/shadow"  # the link itself, not followed
    src = tmp_path / "f"
    src.write_text("from the host\n")
    for dest in ("a:/tmp/dst/x", f"a:/hostroot{target}/y"):
        proc = cli.run("cp", str(src), dest, check=False)
        assert proc.returncode != 0
        assert "could not find the file" in proc.stderr, proc.stderr
    assert list(target.iterdir()) == []  # nothing written on the host
    cli.run("cp", str(src), "a:/tmp/in.txt")
    assert cli.run("exec", "-T", "a", "cat", "/tmp/in.txt").stdout == "from the host\n"


# gaps 3 and 6: modes -------------------------------------------------------------------------
def _modes(root: Path) -> dict[str, int]:
    """path (relative) -> mode, not descending into what the containers own."""
    found = {".": stat.S_IMODE(root.lstat().st_mode)}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        if rel.parts[-1:] in (("upper",), ("work",), ("rootfs",), ("_data",)) or (
            rel.parts[:2] == ("images", "layers")
        ):
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            found[str(rel / name)] = stat.S_IMODE((Path(dirpath) / name).lstat().st_mode)
    return found


@pytest.fixture
def open_dirs(monkeypatch, tmp_path_factory):
    """State and run dirs below a directory every user may traverse (the test's own tmp dirs
    are 0700: another user could not reach anything there whatever pycompose does)."""
    base = Path(f"/tmp/pyc-sec-{uuid.uuid4().hex[:8]}")
    base.mkdir(mode=0o755)
    base.chmod(0o755)
    (base / "run").mkdir(mode=0o777)  # an old install's run dir, world-writable
    (base / "run").chmod(0o777)
    monkeypatch.setenv("PYCOMPOSE_STATE_DIR", str(base / "state"))
    monkeypatch.setenv("PYCOMPOSE_RUN_DIR", str(base / "run"))
    yield base
    shutil.rmtree(base, ignore_errors=True)


def test_state_sockets_and_logs_are_private_under_umask_000(open_dirs, project, tmp_path):
    body = (
        "services:\n  a:\n    image: IMAGE\n    environment: {PW: hunter2}\n"
        '    command: ["sh", "-c", "cp /bin/busybox /tmp/s; chmod 4755 /tmp/s; exec sleep 1000"]\n'
        "    volumes: ['data:/data']\nvolumes:\n  data:\n"
    )
    cli = Cli(project, file=write_stack(tmp_path, body))
    old = os.umask(0)
    try:
        cli.run("up", "-d")
    finally:
        os.umask(old)
    state, run = open_dirs / "state", open_dirs / "run"
    container = state / "projects" / project / "containers" / f"{project}-a-1"
    sock = run / "projects" / project / "supervisor.sock"
    modes = {**{f"state/{k}": v for k, v in _modes(state).items()}}
    modes.update({f"run/{k}": v for k, v in _modes(run).items()})
    assert modes["state/."] == modes["run/."] == 0o700  # the run dir was 0777: tightened
    public = {"etc/hosts", "etc/hostname", "etc/resolv.conf"}  # read by any container user
    for path, mode in modes.items():
        if path.endswith(tuple(public)):
            assert mode == 0o644, path
        elif path.endswith(("/upper", "/rootfs")):
            assert mode == 0o755, path  # the container's "/", below a 0700 dir
        elif path.startswith("state/mountpoints/") and path.endswith("/etc"):
            assert mode == 0o755, path  # the container's /etc (the image's mode), below 0700
        elif path.endswith("/_data"):
            continue  # the volume's: Docker's 0755 or the image directory's mode
        elif path.startswith("run/netns/"):
            assert mode == 0o444, path  # an nsfs inode is bound there (setns needs SYS_ADMIN)
        else:
            assert mode & 0o077 == 0, f"{path}: {mode:o}"  # nothing for group or others
    assert stat.S_IMODE(container.stat().st_mode) == 0o700
    assert stat.S_IMODE((container / "spec.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    log = state / "projects" / project / "logs" / f"{project}-a-1.log"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    # another local user: reaches nothing (the review's setuid-root, environment, socket)
    probe = f"""
import os, socket
for path in ({str(container / "upper/tmp/s")!r}, {str(container / "spec.json")!r},
             {str(state / "volumes")!r}, {str(run / "projects")!r}):
    try:
        os.stat(path); print("reached", path)
    except PermissionError:
        pass
for path in ({str(state)!r}, {str(run)!r}):
    try:
        os.listdir(path); print("listed", path)
    except PermissionError:
        pass
s = socket.socket(socket.AF_UNIX)
try:
    s.connect({str(sock)!r}); print("connected")
except PermissionError:
    pass
print("done")
"""
    assert _as_nobody(probe) == "done"


def test_the_supervisor_answers_no_other_user_even_through_an_open_socket(
    open_dirs, project, tmp_path
):
    """SO_PEERCRED: the socket's dir and mode are the first guards, the peer's uid the last."""
    body = BASIC
    Cli(project, file=write_stack(tmp_path, body)).run("up", "-d")
    sock = open_dirs / "run" / "projects" / project / "supervisor.sock"
    for directory in (open_dirs / "run", sock.parent.parent, sock.parent):
        directory.chmod(0o755)  # as a careless chmod would leave them
    sock.chmod(0o666)
    probe = f"""
import socket
s = socket.socket(socket.AF_UNIX)
s.connect({str(sock)!r})
try:
    s.sendall(b'{{"op": "status"}}\\n')
    print("reply:", s.recv(100))
except (BrokenPipeError, ConnectionResetError):  # refused at once: the same answer
    print("reply:", b"")
"""
    assert _as_nobody(probe) == "reply: b''"  # connected, and got no answer
    with socket.socket(socket.AF_UNIX) as s:  # root still gets its answer
        s.connect(str(sock))
        s.sendall(b'{"op": "status"}\n')
        assert b'"ok": true' in s.recv(65536)


# gaps 4 and 5: names ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body, why",
    [
        ("    container_name: ../../../VICTIM\n", "invalid container name"),
        (
            "    volumes: [{type: volume, source: v, target: /v}]\n"
            "volumes:\n  v:\n    name: ../../../../../../../../VICTIM\n",
            "invalid characters for a local volume name",
        ),
    ],
)
def test_traversing_names_are_refused_before_anything_happens(project, tmp_path, body, why):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious\n")
    text = BASIC + body
    cli = Cli(project, file=write_stack(tmp_path, text.replace("VICTIM", str(victim).lstrip("/"))))
    for args in (("up", "-d"), ("down", "-v")):
        proc = cli.run(*args, check=False)
        assert proc.returncode == 1 and why in proc.stderr, proc.stderr
        assert "compose.yaml:" in proc.stderr  # located
    assert (victim / "keep.txt").read_text() == "precious\n"


# item 11: bounds --------------------------------------------------------------------------------
def test_bounds_say_what_to_raise(project, tmp_path):
    cli = Cli(
        project,
        file=write_stack(
            tmp_path, "services:\n  a:\n    image: IMAGE\n    deploy: {replicas: 5000}\n"
        ),
    )
    proc = cli.run("up", "-d", check=False)
    assert proc.returncode == 1 and "PYCOMPOSE_MAX_REPLICAS" in proc.stderr
    assert cli.run("config", "-q", env={"PYCOMPOSE_MAX_REPLICAS": "10000"}).returncode == 0
    big = tmp_path / "big.yaml"
    big.write_text("services:\n  a:\n    image: x\n" + "#" * (5 << 20) + "\n")
    proc = Cli(project, file=big).run("config", "-q", check=False)
    assert proc.returncode == 1 and "PYCOMPOSE_MAX_FILE_SIZE" in proc.stderr


# item 13: subpath and secret uid/gid/mode -------------------------------------------------------
def test_subpath_and_secret_owner_and_mode(project, tmp_path):
    secret = tmp_path / "token"
    secret.write_text("s3cret\n")
    secret.chmod(0o600)
    body = f"""
services:
  seed:
    image: IMAGE
    command: ["sh", "-c", "mkdir -p /v/sub /v/no && echo in-sub > /v/sub/f && echo no > /v/no/f"]
    volumes: ["data:/v"]
  a:
    image: IMAGE
    command: SLEEP
    user: "1000:1000"
    depends_on: {{seed: {{condition: service_completed_successfully}}}}
    volumes:
      - {{type: volume, source: data, target: /data, volume: {{subpath: sub}}}}
    secrets:
      - {{source: token, uid: "1000", gid: "1000", mode: 0400}}
volumes:
  data:
secrets:
  token:
    file: {secret}
"""
    cli = Cli(project, file=write_stack(tmp_path, body))
    cli.run("up", "-d")
    assert cli.run("exec", "-T", "a", "ls", "/data").stdout.split() == ["f"]  # only the subpath
    assert cli.run("exec", "-T", "a", "cat", "/data/f").stdout == "in-sub\n"
    out = cli.run(
        "exec",
        "-T",
        "a",
        "sh",
        "-c",
        "stat -c '%u %g %a' /run/secrets/token; cat /run/secrets/token",
    )
    assert out.stdout.split("\n")[:2] == ["1000 1000 400", "s3cret"]
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and secret.stat().st_uid == 0  # host's
    proc = cli.run("exec", "-T", "a", "sh", "-c", "echo x > /run/secrets/token", check=False)
    assert proc.returncode != 0  # secrets are read-only (what is solid)


def test_a_missing_or_escaping_subpath_is_a_clear_error(project, tmp_path):
    for subpath, why in (("nope", "No such file or directory"), ("../x", "relative path inside")):
        mount = f"{{type: volume, source: d, target: /d, volume: {{subpath: '{subpath}'}}}}"
        body = BASIC + f"    volumes: [{mount}]\nvolumes:\n  d:\n"
        proc = Cli(project, file=write_stack(tmp_path, body)).run("up", "-d", check=False)
        assert proc.returncode != 0 and why in proc.stderr, proc.stderr


# what is solid: planted symlinks in a named volume ----------------------------------------------
def test_symlinks_planted_in_a_named_volume_are_harmless_on_up_and_down_v(project, tmp_path):
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "file").write_text("host\n")
    body = BASIC + "    volumes: ['vol:/v']\nvolumes:\n  vol:\n"
    cli = Cli(project, file=write_stack(tmp_path, body))
    cli.run("up", "-d")
    plant = f"ln -s / /v/root; ln -s {keep} /v/keep; ln -s {keep}/file /v/file"
    cli.run("exec", "-T", "a", "sh", "-c", plant)
    cli.run("up", "-d", "--force-recreate")
    cli.run("down", "-v", "-t", "1")
    assert (keep / "file").read_text() == "host\n"
    assert Path("/etc/passwd").exists()
