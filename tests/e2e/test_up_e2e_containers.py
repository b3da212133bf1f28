"""What each container gets, as docker gives it (checked on docker 20.10 + compose 2.40):

- its own hostname, its short id: a `run` one-off, a recreated replica and a replica after
  `down`/`up` each get a new one (a restart keeps it);
- tmpfs mounts noexec,nosuid,nodev unless the options say otherwise (`tmpfs: /x:exec`);
- link variables naming the linking container: `DB_NAME=/<project>-web-1/db`.
"""

from __future__ import annotations

import pytest
from e2e_helpers import Cli, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(240)]

STACK = """
services:
  web:
    image: IMAGE
    command: SLEEP
    links: ["db", "db:database"]
    tmpfs: ["/t1", "/t2:size=1m,exec,mode=755"]
    volumes:
      - type: tmpfs
        target: /t3
        tmpfs: {size: 1000000}
  db:
    image: IMAGE
    command: SLEEP
    restart: always
"""


def hostname(cli: Cli, service: str) -> str:
    return cli.run("exec", "-T", service, "hostname").stdout.strip()


def test_each_container_has_its_own_hostname(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, STACK))
    cli.run("up", "-d")
    first = hostname(cli, "web")
    assert len(first) == 12 and first != hostname(cli, "db")
    one_off = cli.run("run", "--rm", "-T", "web", "hostname").stdout.strip()
    other = cli.run("run", "--rm", "-T", "web", "hostname").stdout.strip()
    assert len({first, one_off, other}) == 3  # docker: every container its own short id
    cli.run("restart", "web")
    assert hostname(cli, "web") == first  # the same container
    cli.run("up", "-d", "--force-recreate", "web")
    recreated = hostname(cli, "web")
    assert recreated not in (first, one_off, other)
    etc = cli.run("exec", "-T", "web", "sh", "-c", "cat /etc/hostname; echo $HOSTNAME").stdout
    assert etc.split() == [recreated, recreated]
    cli.run("down", "-t", "1")
    cli.run("up", "-d")
    assert hostname(cli, "web") not in (first, recreated)


def test_tmpfs_mounts_are_noexec_unless_asked(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, STACK))
    cli.run("up", "-d", "web")
    mounts = cli.run("exec", "-T", "web", "cat", "/proc/mounts").stdout.splitlines()
    targets = ("/t1", "/t2", "/t3")
    options = {f[1]: set(f[3].split(",")) for f in map(str.split, mounts) if f[1] in targets}
    for target in ("/t1", "/t3"):
        assert {"rw", "nosuid", "nodev", "noexec"} <= options[target], options
    assert "noexec" not in options["/t2"] and {"nosuid", "nodev"} <= options["/t2"]
    assert "size=1024k" in options["/t2"] and "mode=755" in options["/t2"]
    shm = next(set(f[3].split(",")) for f in map(str.split, mounts) if f[1] == "/dev/shm")
    assert {"nosuid", "nodev", "noexec"} <= shm
    script = "printf '#!/bin/sh\\necho ran\\n' > {0}/x; chmod +x {0}/x; {0}/x"
    assert cli.run("exec", "-T", "web", "sh", "-c", script.format("/t2")).stdout == "ran\n"
    denied = cli.run("exec", "-T", "web", "sh", "-c", script.format("/t1"), check=False)
    assert denied.returncode != 0 and "ermission denied" in denied.stderr + denied.stdout


def test_link_variables_name_the_linking_container(project, tmp_path):
    cli = Cli(project, file=write_stack(tmp_path, STACK))
    cli.run("up", "-d")
    env = cli.run("exec", "-T", "web", "env").stdout.splitlines()
    assert f"DB_NAME=/{project}-web-1/db" in env
    assert f"DATABASE_NAME=/{project}-web-1/database" in env
    one_off = cli.run("run", "--rm", "-T", "--name", "probe", "web", "env").stdout.splitlines()
    assert "DB_NAME=/probe/db" in one_off
