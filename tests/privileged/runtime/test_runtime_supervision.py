"""The runtime from the supervisor's side: threads, a crashed supervisor, state."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from compose.runtime.spec import ContainerHandle

pytestmark = [pytest.mark.privileged, pytest.mark.timeout(60)]


def test_parallel_creates_from_many_threads(make_spec, containers):
    specs = [make_spec(["sh", "-c", f"echo replica {i}"]) for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        handles = list(pool.map(containers.run, specs))
    for i, handle in enumerate(handles):
        assert containers.rt.wait(handle, 10).code == 0
        assert containers.output(handle) == f"replica {i}\n"
    assert len({h.pid for h in handles}) == 8


def test_state_follows_the_lifecycle(make_spec, containers):
    rt = containers.rt
    handle = containers.create(make_spec(["sleep", "30"]))
    assert rt.state(handle) == "created"
    rt.start(handle)
    assert rt.state(handle) == "running"
    rt.pause(handle)
    assert rt.state(handle) == "paused"
    rt.unpause(handle)
    rt.stop(handle, timeout=0)
    assert rt.state(handle) == "exited"


def test_a_killed_supervisor_loses_no_container_and_no_log_line(make_spec, containers):
    spec = make_spec(["sh", "-c", 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.05; done'])
    script = textwrap.dedent(f"""
        import json, sys, time
        from compose.runtime import ContainerSpec, LinuxRuntime
        rt = LinuxRuntime()
        h = rt.run(ContainerSpec.from_dict(json.loads({json.dumps(json.dumps(spec.to_dict()))})))
        print(json.dumps(h.to_dict()), flush=True)
        time.sleep(60)
    """)
    supervisor = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert supervisor.stdout is not None
    handle = ContainerHandle.from_dict(json.loads(supervisor.stdout.readline()))
    containers.handles.append(handle)
    os.kill(supervisor.pid, signal.SIGKILL)
    supervisor.wait()
    time.sleep(0.5)
    rt = containers.rt
    assert rt.is_alive(handle.pid, handle.start_time)
    assert rt.stop(handle, timeout=0) == 137
    ticks = [int(line.split()[1]) for line in containers.output(handle).split("\n") if line]
    assert len(ticks) > 5 and ticks == list(range(1, len(ticks) + 1))  # nothing lost


def test_a_dead_zygote_is_restarted(make_spec, containers):
    rt = containers.rt
    rt.warm()
    zygote = rt._zygote.proc
    zygote.kill()
    zygote.wait()
    status, out, _ = containers.run_to_exit(make_spec(["echo", "still works"]))
    assert (status.code, out) == (0, "still works\n")
    assert rt._zygote.proc is not zygote
