"""``pycompose attach SERVICE``: this terminal on a running replica: its output as it comes
(from its log), this stdin into its stdin (the ``stdin_open`` fifo), signals passed on
(``--sig-proxy``), until it exits (its exit code) or the detach keys (default ctrl-p,ctrl-q)."""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from compose.cli.commands._project import client, needs_root

if TYPE_CHECKING:
    from compose.cli.app import GlobalOptions
    from compose.project import ProjectClient
    from compose.state import ObservedReplica

DETACH_KEYS = "ctrl-p,ctrl-q"


@click.command()
@click.argument("service")
@click.option("--index", type=int, default=None, help="Replica index (default 1).")
@click.option("--no-stdin", is_flag=True, help="Do not attach stdin.")
@click.option("--detach-keys", default=DETACH_KEYS, help="Keys that detach (ctrl-<c>, ...).")
@click.option("--sig-proxy/--no-sig-proxy", default=True, help="Pass signals to the process.")
@click.pass_obj
def command(
    obj: GlobalOptions,
    /,
    service: str,
    index: int | None,
    no_stdin: bool,
    detach_keys: str,
    sig_proxy: bool,
) -> None:
    """Attach local standard input, output and error to a service's running container."""
    needs_root(obj, "attach")
    project = client(obj)
    project.check_services((service,))
    rep = project.replica(service, index)
    fifo = Path(rep.record.runtime.get("replica_dir", "/nonexistent")) / "stdin"
    stdin = None if no_stdin or not fifo.exists() else fifo
    keys = parse_keys(detach_keys)
    code = Session(rep, stdin, keys, sig_proxy).run()
    if code is None:
        return  # detached: the container keeps running
    final = _exit_code(project, rep, code)
    if final:
        raise click.exceptions.Exit(final)


def parse_keys(text: str) -> bytes:
    """docker's ``--detach-keys``: ``ctrl-<letter>`` (and ``ctrl-@ [ \\ ] ^ _``) or a letter."""
    out = bytearray()
    for part in text.split(","):
        part = part.strip()
        if part.startswith("ctrl-") and len(part) == 6:
            out.append(ord(part[5].upper()) & 0x1F)
        elif len(part) == 1:
            out.append(ord(part))
        else:
            hint = "--detach-keys"
            raise click.BadParameter(f"{part!r}: expected ctrl-<key> or one key", param_hint=hint)
    return bytes(out)


class Session:
    def __init__(
        self, rep: ObservedReplica, stdin: Path | None, keys: bytes, sig_proxy: bool
    ) -> None:
        from compose.logs import LogTail

        self.rep, self.keys, self.sig_proxy = rep, keys, sig_proxy
        self.fifo = os.open(stdin, os.O_WRONLY | os.O_NONBLOCK) if stdin else None
        self.tail = LogTail()
        if rep.record.log_path:
            self.tail.add("c", Path(rep.record.log_path), from_end=True)
        self.typed = b""

    def run(self) -> int | None:
        """Until the container exits (None: detached by the keys)."""
        from compose.cli.commands._attach import raw_terminal

        pid = self.rep.record.pid or 0
        try:
            watch = os.pidfd_open(pid)
        except OSError:
            return 0
        interactive = self.fifo is not None and sys.stdin.isatty()
        previous = self._proxy(pid)
        try:
            with raw_terminal(interactive):
                return self._loop(watch)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            os.close(watch)
            if self.fifo is not None:
                os.close(self.fifo)

    def _loop(self, watch: int) -> int | None:
        reading = [watch] + ([sys.stdin.fileno()] if self.fifo is not None else [])
        while True:
            ready, _, _ = select.select(reading, [], [], 0.1)
            self._output()
            if watch in ready:
                time.sleep(0.05)  # its last lines
                self._output()
                return 0
            if sys.stdin.fileno() in ready:
                data = os.read(sys.stdin.fileno(), 4096)
                if not data:
                    reading.remove(sys.stdin.fileno())
                elif self._input(data):
                    return None

    def _input(self, data: bytes) -> bool:
        """Into the container's stdin; True when the detach keys were typed."""
        self.typed = (self.typed + data)[-len(self.keys) :] if self.keys else b""
        if self.keys and self.typed == self.keys:
            sys.stderr.write("\r\nread escape sequence\r\n")
            return True
        assert self.fifo is not None
        try:
            os.write(self.fifo, data)
        except BlockingIOError:
            pass
        return False

    def _output(self) -> None:
        for line in self.tail.poll():
            stream = sys.stderr if line.stream == "stderr" else sys.stdout
            stream.write(line.text + "\n")
            stream.flush()

    def _proxy(self, pid: int) -> dict[int, Any]:
        """``--sig-proxy``: SIGINT/SIGTERM/SIGHUP to this process go to the container's."""
        if not self.sig_proxy:
            return {}

        def forward(signum: int, _frame: object) -> None:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

        sigs = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        return {sig: signal.signal(sig, forward) for sig in sigs}


def _exit_code(project: ProjectClient, rep: ObservedReplica, fallback: int) -> int:
    """The exit code its supervisor records (a moment after the exit)."""

    ident = rep.record.container_id
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        for now in project.observe().replicas:
            if now.record.container_id == ident and now.record.exit_code is not None:
                return int(now.record.exit_code)
        time.sleep(0.05)
    return fallback
