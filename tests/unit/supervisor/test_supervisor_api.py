"""The detached supervisor's unix-socket API: one JSON request, its steps, one JSON reply."""

from __future__ import annotations

import socket

import anyio
import pytest

from compose.errors import OperationError, UserError
from compose.state.layout import socket_path
from compose.supervisor import api


def test_call_without_supervisor_is_none():
    assert api.call("nobody", {"op": "status"}) is None


def test_a_supervisor_ending_as_we_connect_is_none():
    """Killed -9 while a client connects (its listening socket closed before it accepted):
    the request never reached it, as if none listened (a sweep then serves the `down`)."""
    path = socket_path("p")
    path.parent.mkdir(parents=True, exist_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)
    real_connect = socket.socket.connect

    def connect_then_die(sock: socket.socket, address: str) -> None:
        real_connect(sock, address)
        listener.close()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect_then_die)
        assert api.call("p", {"op": "down"}) is None


def test_request_reply_and_errors():
    async def handler(request, channel):
        if request["op"] == "steps":
            for n in range(3):
                channel.emit({"step": {"n": n}})
            return {"ok": True}
        if request["op"] == "boom":
            raise ValueError("no such op")
        if request["op"] == "typo":
            raise UserError('no such service: "wbe"', hint="check the name")
        return {"ok": True, "echo": request}

    async def main():
        async with anyio.create_task_group() as tg:
            tg.start_soon(api.serve, socket_path("p"), handler)
            await anyio.sleep(0.1)
            reply = await anyio.to_thread.run_sync(api.call, "p", {"op": "status", "n": 1})
            seen = []
            streamed = await anyio.to_thread.run_sync(
                lambda: api.call("p", {"op": "steps"}, on_line=seen.append)
            )
            assert streamed == {"ok": True} and seen == [{"step": {"n": n}} for n in range(3)]
            with pytest.raises(OperationError, match="no such op"):
                await anyio.to_thread.run_sync(api.call, "p", {"op": "boom"})
            with pytest.raises(UserError, match=r'^no such service: "wbe"$') as user:
                await anyio.to_thread.run_sync(api.call, "p", {"op": "typo"})
            assert user.value.hint == "check the name" and user.value.exit_code == 1
            tg.cancel_scope.cancel()
        return reply

    assert anyio.run(main) == {"ok": True, "echo": {"op": "status", "n": 1}}
    assert not socket_path("p").exists()


def test_a_socket_path_longer_than_a_socket_address_holds(tmp_path, monkeypatch):
    """A deep run dir (pytest-xdist's tmp dirs, a CI workspace) puts supervisor.sock past the
    108 bytes of a socket address: serving and calling still work, and the file is where
    `ls` looks for it."""
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    monkeypatch.setenv("PYCOMPOSE_RUN_DIR", str(deep))
    assert len(str(socket_path("p"))) > 108

    async def handler(request, channel):
        return {"ok": True, "echo": request["op"]}

    async def main():
        async with anyio.create_task_group() as tg:
            tg.start_soon(api.serve, socket_path("p"), handler)
            await anyio.sleep(0.1)
            assert socket_path("p").is_socket()
            reply = await anyio.to_thread.run_sync(api.call, "p", {"op": "status"})
            tg.cancel_scope.cancel()
        return reply

    assert anyio.run(main) == {"ok": True, "echo": "status"}
