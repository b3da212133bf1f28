"""stop/kill/wait, init: true, exec, failure messages, logs, adoption by another runtime."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from compose.errors import ContainerError
from compose.runtime import LinuxRuntime
from compose.runtime.spec import ContainerHandle, Limits, Mount

pytestmark = [pytest.mark.privileged, pytest.mark.timeout(60)]
LOOP = "while :; do sleep 0.05; done"


def _wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_stop_sends_the_stop_signal(make_spec, containers):
    script = f'trap "echo got USR1; exit 3" USR1; echo up; {LOOP}'
    handle = containers.run(make_spec(["sh", "-c", script], stop_signal=int(signal.SIGUSR1)))
    _wait_for(lambda: "up" in containers.output(handle))
    assert containers.rt.stop(handle) == 3
    assert "got USR1" in containers.output(handle)


def test_stop_kills_after_the_grace_period(make_spec, containers):
    spec = make_spec(["sh", "-c", f'trap "" TERM; {LOOP}'], stop_grace_period=0.5)
    handle = containers.run(spec)
    started = time.monotonic()
    assert containers.rt.stop(handle) == 137
    assert 0.5 <= time.monotonic() - started < 3
    assert containers.rt.wait(handle).signal == signal.SIGKILL


def test_kill_with_a_signal_and_wait_reports_it(make_spec, containers):
    handle = containers.run(make_spec(["sh", "-c", f'trap "exit 42" HUP; echo up; {LOOP}']))
    _wait_for(lambda: "up" in containers.output(handle))
    containers.rt.kill(handle, signal.SIGHUP)
    assert containers.rt.wait(handle, 5).code == 42


def test_wait_times_out_on_a_running_container(make_spec, containers):
    handle = containers.run(make_spec(["sleep", "30"]))
    with pytest.raises(TimeoutError):
        containers.rt.wait(handle, 0.1)


@pytest.mark.parametrize(
    ("init", "zombies", "pid1"), [(True, "0", "docker-init"), (False, "1", "sleep")]
)
def test_init_true_runs_tini_as_pid_1_and_reaps_zombies(make_spec, containers, init, zombies, pid1):
    # the inner shell exits at once: its `sleep 0.1` is orphaned and reparented to PID 1; the
    # outer shell then execs sleep, which never reaps (tini does)
    spec = make_spec(["sh", "-c", 'sh -c "sleep 0.1 &"; exec sleep 5'], init=init)
    handle = containers.run(spec)
    time.sleep(0.5)
    proc = containers.rt.exec_process(
        handle,
        ["sh", "-c", 'cat /proc/1/comm; ps -o stat | grep -c "^Z"; true'],
        stdout=subprocess.PIPE,
    )
    out, _ = proc.communicate(timeout=10)
    assert out.decode().split() == [pid1, zombies]
    containers.rt.stop(handle, timeout=0)


def test_exec_propagates_exit_code_env_user_and_namespaces(make_spec, containers):
    spec = make_spec(["sleep", "30"], env=("PATH=/bin", "FOO=bar"), workdir="/tmp")
    handle = containers.run(spec)
    rt = containers.rt
    assert rt.exec(handle, ["sh", "-c", "exit 7"]) == 7
    script = "echo $FOO $BAZ; pwd; hostname; id -u; ps -o pid,comm | sed -n 2p"
    proc = rt.exec_process(
        handle, ["sh", "-c", script], env=["BAZ=qux"], user="app", stdout=subprocess.PIPE
    )
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert out.decode().split("\n")[:5] == ["bar qux", "/tmp", "box", "1000", "    1 sleep"]


def test_exec_tty_mode_gets_a_terminal_from_the_container(make_spec, containers):
    handle = containers.run(make_spec(["sleep", "30"]))
    proc = containers.rt.exec_process(
        handle,
        ["sh", "-c", "tty; exit 5"],
        tty=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
    )
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 5
    assert out.decode().strip() == "/dev/pts/0"


def test_exec_missing_binary_and_stopped_container(make_spec, containers):
    handle = containers.run(make_spec(["sleep", "30"]))
    proc = containers.rt.exec_process(handle, ["nope"], stderr=subprocess.PIPE)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 127
    assert err.decode().strip() == 'exec: "nope": executable file not found in $PATH'
    containers.rt.stop(handle, timeout=0)
    with pytest.raises(ContainerError, match="exec: container is not running"):
        containers.rt.exec(handle, ["true"])


def test_missing_binary_fails_start_like_docker(make_spec, containers):
    spec = make_spec(["nope", "arg"])
    handle = containers.create(spec)
    with pytest.raises(ContainerError) as info:
        containers.rt.start(handle)
    assert str(info.value) == (
        f'service "svc" replica {spec.replica}: exec: "nope": executable file not found in $PATH'
    )
    assert containers.rt.wait(handle, 5).code == 127


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"user": "bob"}, "resolve user: unable to find user bob: no matching entries in passwd"),
        (
            {"netns_path": "/run/netns/pyc-does-not-exist"},
            "join network namespace: No such file or directory",
        ),
        ({"workdir": "/etc/passwd/x"}, "create working dir: Not a directory"),
        (
            {"mounts": (Mount("/data", source="/nonexistent-pyc"),)},
            "invalid container spec: bind source path does not exist: /nonexistent-pyc",
        ),
        (
            {"sysctls": (("kernel.panic", "1"),)},
            "invalid container spec: sysctl 'kernel.panic' is not namespaced",
        ),
        ({"limits": Limits(cpuset="99")}, "cpuset.cpus: Numerical result out of range"),
    ],
)
def test_each_failure_is_one_line_naming_its_step(make_spec, runtime, fields, message):
    spec = make_spec(["true"], **fields)
    with pytest.raises(ContainerError) as info:
        runtime.create(spec)
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(f'service "svc" replica {spec.replica}: ')
    assert message in text
    assert not spec.replica_dir.exists()
    assert not runtime.cgroups.exists(spec.cgroup_path)


def test_logs_are_json_lines_with_stream_and_time(make_spec, containers):
    handle = containers.run(make_spec(["sh", "-c", "echo out; echo err >&2; printf partial"]))
    containers.rt.wait(handle, 5)
    docs = [json.loads(line) for line in handle.log_path.read_text().splitlines()]
    assert sorted((d["stream"], d["log"]) for d in docs) == [
        ("stderr", "err\n"),
        ("stdout", "out\n"),
        ("stdout", "partial"),
    ]
    assert all(d["time"].endswith("Z") and len(d["time"]) == 30 for d in docs)


def test_another_runtime_adopts_the_container_from_its_record(make_spec, containers):
    handle = containers.run(make_spec(["sh", "-c", f'trap "exit 9" TERM; echo up; {LOOP}']))
    _wait_for(lambda: "up" in containers.output(handle))
    record = json.loads(json.dumps(handle.to_dict()))
    other = LinuxRuntime()
    adopted = ContainerHandle.from_dict(record)
    assert other.is_alive(adopted.pid, adopted.start_time)
    assert other.stop(adopted) == 9
    other.remove(adopted)
    other.close()
    containers.assert_gone(handle)


def test_remove_is_idempotent_and_leaves_nothing(make_spec, containers):
    handle = containers.run(make_spec(["sleep", "30"]))
    containers.rt.remove(handle)
    containers.assert_gone(handle)
    containers.rt.remove(handle)


def test_tty_container_gets_a_pty_of_its_own_devpts(make_spec, containers):
    script = "tty; test -c /dev/console && echo console; ls /dev/pts"
    status, out, _ = containers.run_to_exit(make_spec(["sh", "-c", script], tty=True))
    assert status.code == 0
    assert out.replace("\r", "").split() == ["/dev/pts/0", "console", "0", "ptmx"]


def _exec_out(rt, handle, argv: list[str]) -> str:
    proc = rt.exec_process(handle, argv, stdout=subprocess.PIPE)
    return proc.communicate(timeout=10)[0].decode().strip()


def test_killing_an_exec_helper_kills_its_command(make_spec, containers):
    rt = containers.rt
    handle = containers.run(make_spec(["sleep", "30"]))
    proc = rt.exec_process(handle, ["sleep", "20"])
    count = ["sh", "-c", "ps -o comm | grep -c sleep"]
    _wait_for(lambda: _exec_out(rt, handle, count) == "2")
    proc.terminate()  # forwarded: the command dies of SIGTERM, the helper exits 143
    assert proc.wait(5) == 128 + signal.SIGTERM
    proc = rt.exec_process(handle, ["sleep", "20"])
    _wait_for(lambda: _exec_out(rt, handle, count) == "2")
    proc.kill()  # not catchable: PR_SET_PDEATHSIG takes the command down with it
    proc.wait(5)
    _wait_for(lambda: _exec_out(rt, handle, count) == "1")


def test_exec_tty_takes_the_callers_terminal_size(make_spec, containers):
    import fcntl
    import pty
    import struct
    import termios

    handle = containers.run(make_spec(["sleep", "30"]))
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
    try:
        proc = containers.rt.exec_process(
            handle, ["stty", "size"], tty=True, stdin=slave, stdout=subprocess.PIPE
        )
        out, _ = proc.communicate(timeout=10)
    finally:
        os.close(master)
        os.close(slave)
    assert out.decode().split() == ["33", "101"]


@pytest.mark.parametrize("tty", [False, True])
def test_stdin_open_keeps_stdin_open_and_feeds_it_from_the_fifo(make_spec, containers, tty):
    spec = make_spec(["sh", "-c", "read line; echo got $line"], stdin_open=True, tty=tty)
    handle = containers.run(spec)
    time.sleep(0.2)
    assert containers.rt.is_alive(handle.pid, handle.start_time)  # waiting, not at EOF
    with open(spec.replica_dir / "stdin", "w") as fifo:
        fifo.write("hello\n")
    assert containers.rt.wait(handle, 5).code == 0
    assert "got hello" in containers.output(handle)


def test_without_stdin_open_stdin_is_at_eof(make_spec, containers):
    _, out, _ = containers.run_to_exit(make_spec(["sh", "-c", "read line; echo rc=$?"]))
    assert out == "rc=1\n"


def test_exec_without_pipes_is_forked_by_the_zygote(make_spec, containers, tmp_path):
    from compose.runtime.execfast import ExecProcess

    rt = containers.rt
    handle = containers.run(make_spec(["sleep", "30"]))
    out = tmp_path / "out"
    with open(out, "w") as f:
        proc = rt.exec_process(
            handle, ["sh", "-c", "hostname; exit 3"], stdout=f, stderr=subprocess.DEVNULL
        )
        assert isinstance(proc, ExecProcess)
        assert proc.wait(10) == 3 and proc.poll() == 3
    assert out.read_text() == "box\n"
    slow = rt.exec_process(handle, ["sleep", "20"], stdout=subprocess.DEVNULL)
    with pytest.raises(subprocess.TimeoutExpired):
        slow.wait(0.2)
    slow.kill()
    assert slow.wait(5) == 137
    _wait_for(lambda: _exec_out(rt, handle, ["sh", "-c", "ps -o comm | grep -c sleep"]) == "1")
    started = time.monotonic()
    for _ in range(5):
        assert rt.exec(handle, ["true"]) == 0
    assert (time.monotonic() - started) / 5 < 0.5


def test_a_large_environment_gets_through(make_spec, containers):
    env = ("PATH=/bin", *(f"V{i}={'x' * 100}" for i in range(3000)))  # ~310 KB
    status, out, _ = containers.run_to_exit(make_spec(["sh", "-c", "echo $V2999"], env=env))
    assert (status.code, out) == (0, "x" * 100 + "\n")
