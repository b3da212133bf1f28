"""The CLI as a subprocess, and a sweep for kernel objects a project may have left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STACKS = REPO / "examples" / "stacks"


class Cli:
    def __init__(
        self,
        project: str,
        stack: str | None = None,
        env: dict[str, str] | None = None,
        file: Path | None = None,
    ):
        self.project = project
        self.file = file or (STACKS / stack / "compose.yaml" if stack else None)
        self.env = env or {}

    def argv(self, *args: str) -> list[str]:
        files = ["-f", str(self.file)] if self.file else []
        return [sys.executable, "-m", "compose", "-p", self.project, *files, *args]

    def run(
        self,
        *args: str,
        check: bool = True,
        timeout: float = 120,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, **self.env, **(env or {})}
        proc = subprocess.run(
            self.argv(*args),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=full_env,
            stdin=subprocess.DEVNULL,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"pycompose {' '.join(args)} exited {proc.returncode}\n"
                f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
            )
        return proc


def in_pty(
    argv: list[str],
    typed: str,
    prompt: bytes,
    timeout: float = 60,
    size: tuple[int, int] | None = None,
) -> tuple[str, int]:
    """Run argv on a fresh pty (its terminal, ``size`` rows x columns); type after the prompt
    shows; (output, exit)."""
    master, slave = os.openpty()
    if size is not None:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True, env=os.environ
    )
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    typed_yet = False
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: every holder of the terminal is gone
            break
        if not chunk:
            break
        out += chunk
        if not typed_yet and prompt in out:
            os.write(master, typed.encode())
            typed_yet = True
    os.close(master)
    return out.decode(errors="replace"), proc.wait(timeout=30)


SLEEP = """["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]"""


def write_stack(tmp_path: Path, body: str) -> Path:
    """A compose file with IMAGE = the registry's busybox and SLEEP = a TERM-aware sleeper."""
    path = tmp_path / "compose.yaml"
    path.write_text(body.replace("IMAGE", os.environ["BUSYBOX_IMAGE"]).replace("SLEEP", SLEEP))
    return path


def http_text(url: str, timeout: float = 3.0) -> str | None:
    """The stripped body of a GET, None when it fails (refused, reset, timed out, HTTP error)."""
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return reply.read().decode().strip()
    except OSError:
        return None


# a stack whose `up --wait` fails: "bad" never gets healthy (its probe says why, its log says
# it started), "quiet" never accepts on the port it exposes
UNHEALTHY = """
name: sick
services:
  bad:
    image: IMAGE
    command: ["sh", "-c", "echo bad is starting; trap 'exit 0' TERM; sleep 1000 & wait"]
    healthcheck:
      test: ["CMD-SHELL", "echo not today; exit 1"]
      interval: 1s
      retries: 2
  quiet:
    image: IMAGE
    command: SLEEP
    expose: ["9999"]
"""


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def supervisors() -> list[int]:
    """Detached supervisors of this test (they carry its state dir in their environment)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with (
                open(f"/proc/{entry}/cmdline", "rb") as cmd,
                open(f"/proc/{entry}/environ", "rb") as env,
            ):
                if (
                    b"compose.supervisor" in cmd.read()
                    and os.environ["PYCOMPOSE_STATE_DIR"].encode() in env.read()
                ):
                    found.append(int(entry))
        except OSError:
            continue
    return found


def leaks(project: str, state_dir: Path, run_dir: Path) -> list[str]:
    """Everything of ``project`` still on the machine after `down -v` (empty = clean)."""
    found: list[str] = []
    found += _processes(state_dir, project)
    found += _links(project)
    found += _netns(run_dir, project)
    found += _mounts(state_dir, project)
    found += _cgroups(project)
    found += _ipam(state_dir, project)
    found += _nft(project)
    return found


def _processes(state_dir: Path, project: str) -> list[str]:
    """Our helpers carry the test's state dir in their environment; containers their cgroup."""
    out = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            env = (proc / "environ").read_bytes()
            cgroup = (proc / "cgroup").read_text()
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(state_dir).encode() in env or f"pycompose/{project}/" in cgroup:
            out.append(f"process {proc.name}: {cmd}")
    return out


def _links(project: str) -> list[str]:
    from netplug.naming import bridge_name

    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    bridge = bridge_name(project, "default")
    return [f"link {bridge}"] if bridge in links else []


def _netns(run_dir: Path, project: str) -> list[str]:
    netns = run_dir / "netns"
    if not netns.is_dir():
        return []
    return [f"netns {p.name}" for p in netns.iterdir() if p.name.startswith(project)]


def _mounts(state_dir: Path, project: str) -> list[str]:
    text = Path("/proc/self/mountinfo").read_text()
    return [
        f"mount {line.split()[4]}"
        for line in text.splitlines()
        if project in line and (str(state_dir) in line or "/netns/" in line)
    ]


def _cgroups(project: str) -> list[str]:
    roots = Path("/sys/fs/cgroup")
    found = [str(p) for p in roots.glob(f"*/pycompose/{project}*")]
    found += [str(p) for p in roots.glob(f"pycompose/{project}*")]
    return [f"cgroup {p}" for p in found]


def _ipam(state_dir: Path, project: str) -> list[str]:
    ipam = state_dir / "ipam"
    if not ipam.is_dir():
        return []
    return [
        f"ipam {p}"
        for p in ipam.glob(f"{project}_*/*")
        if not p.name.startswith(("last_", "lock", "index."))  # the store's own files
    ]


def _nft(project: str) -> list[str]:
    from netplug.naming import bridge_name

    prefix = bridge_name(project, "default")
    text = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    return [f"nft {line}" for line in text.splitlines() if prefix in line]
