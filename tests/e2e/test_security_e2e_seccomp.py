"""Seccomp in real containers (review gap 9): every system call number of both x86 ABIs, from 0
to beyond the highest this kernel knows, in a default container and with cap_add SYS_ADMIN and
SYS_PTRACE; the errno pattern must be what Docker's default profile (read as data,
``tests.seccomp_reference``) says: its errno where the profile refuses, and where it allows,
whatever the kernel answers the same container without a filter.

One container per variant loops over the numbers (plus an unconfined twin for the kernel's
own answers); they run side by side in one stack.
"""

from __future__ import annotations

import errno
import json
import platform
import shutil
import uuid
from pathlib import Path

import pytest
from e2e_helpers import Cli

from compose.runtime.syscall_tables import table
from tests.seccomp_reference import ALLOW, expected

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(300)]

VARIANTS = {"default": [], "sys-admin": ["SYS_ADMIN"], "sys-ptrace": ["SYS_PTRACE"]}
DEFAULT_CAPS = (
    "CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP "
    "NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE"
).split()
# the kernel runs these without consulting any seccomp filter (only valid from a uprobe
# trampoline; Linux 6.13 and 6.18)
PASSTHROUGH = ("uretprobe", "uprobe")
HIGHEST = max(max(table("x86_64").values()), max(table("i386").values()))


def _stack(py_image: str) -> str:
    services = []
    for name, caps in VARIANTS.items():
        for suffix, opt in (("", ""), ("-unconfined", "    security_opt: [seccomp=unconfined]\n")):
            services.append(
                f"  {name}{suffix}:\n"
                f"    image: {py_image}\n"
                f"    command: [python3, /probe/seccomp_sweep.py, /out/{name}{suffix}.json,"
                f' "{HIGHEST}"]\n'
                '    volumes: ["./probe:/probe:ro", "./out:/out"]\n'
                f"    cap_add: {json.dumps(caps)}\n" + opt
            )
    return "services:\n" + "".join(services)


def _category(result: object) -> str:
    return {errno.EPERM: "EPERM", errno.ENOSYS: "ENOSYS"}.get(result, "reaches the kernel")  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory, registry):
    """{variant: report} from one `up` of the six containers (module-wide: its own dirs)."""
    if platform.machine() != "x86_64":
        pytest.skip("the sweep probes the x86_64 and i386 ABIs")
    tmp = tmp_path_factory.mktemp("seccomp")
    env = {f"PYCOMPOSE_{d.upper()}_DIR": str(tmp / d) for d in ("state", "run", "config")}
    env["PYCOMPOSE_CGROUP_ROOT"] = f"pycompose-t{uuid.uuid4().hex[:8]}"
    for d in ("probe", "out", "config"):
        (tmp / d).mkdir()
    shutil.copy(Path(__file__).with_name("seccomp_sweep.py"), tmp / "probe")
    (tmp / "compose.yaml").write_text(_stack(registry.ref("python:3.11")))
    cli = Cli(f"sec{uuid.uuid4().hex[:8]}", file=tmp / "compose.yaml", env=env)
    try:
        cli.run("up", "-d", timeout=240)
        cli.run("wait", *[f"{v}{s}" for v in VARIANTS for s in ("", "-unconfined")], timeout=240)
    finally:
        cli.run("down", "-t", "1", check=False, timeout=120)
        for root in Path("/sys/fs/cgroup").glob(f"*/{env['PYCOMPOSE_CGROUP_ROOT']}"):
            root.rmdir()
    return {p.stem: json.loads(p.read_text()) for p in (tmp / "out").glob("*.json")}


def _mismatches(sweeps, variant: str, abi: str) -> list[str]:
    confined, bare = sweeps[variant][abi], sweeps[f"{variant}-unconfined"][abi]
    caps = {f"CAP_{c}" for c in DEFAULT_CAPS + VARIANTS[variant]}
    exempt = {table(abi)[n] for n in PASSTHROUGH if n in table(abi)}
    out = []
    for nr_text, got in confined.items():
        nr, kernel = int(nr_text), bare[nr_text]
        rule = ALLOW if nr in exempt else expected(nr, arch=abi, caps=caps)
        want = _category(kernel) if rule == ALLOW else _category(rule)
        if _category(got) != want:
            out.append(f"{abi} {nr}: got {got}, the profile says {rule} (unconfined: {kernel})")
    return out


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_x86_64_number_answers_as_dockers_profile_says(sweeps, variant):
    assert len(sweeps) == 2 * len(VARIANTS), sorted(sweeps)
    assert _mismatches(sweeps, variant, "x86_64") == []


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_i386_number_answers_as_dockers_profile_says(sweeps, variant):
    if "i386" not in sweeps[variant]:
        pytest.skip("this kernel runs no 32-bit system calls (ia32_emulation off)")
    assert _mismatches(sweeps, variant, "i386") == []


def test_the_reviews_looser_calls_are_refused_and_new_ones_get_enosys(sweeps):
    got = sweeps["default"]["x86_64"]
    nr = table("x86_64")
    for name in ("kcmp", "pidfd_getfd", "syslog", "mbind", "io_uring_setup", "unshare"):
        assert got[str(nr[name])] == errno.EPERM, name
    for number in (467, 470, 1000, 0x3FFFFFFF, 0x40000001):  # newer than the profile; x32
        assert got[str(number)] == errno.ENOSYS, number
    probes = sweeps["default"]["probes"]
    assert probes["personality(ADDR_NO_RANDOMIZE)"] == errno.EPERM
    assert probes["personality(query)"] == 0
    assert probes["socket(AF_VSOCK)"] == probes["socket(AF_ALG)"] == errno.EPERM
    assert probes["socket(AF_INET)"] == 0
    assert probes["clone(CLONE_NEWUSER)"] == probes["unshare(CLONE_NEWNS)"] == errno.EPERM
    ptrace = sweeps["sys-ptrace"]["x86_64"]
    assert ptrace[str(nr["kcmp"])] != errno.EPERM  # CAP_SYS_PTRACE opens the ptrace family
