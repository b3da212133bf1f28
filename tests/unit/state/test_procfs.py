"""compose.procfs over a fake /proc: the TCP ports a container listens on."""

from __future__ import annotations

from pathlib import Path

from compose.procfs import listening_ports

HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"


def test_listening_ports_are_the_listeners_not_on_loopback(tmp_path: Path) -> None:
    net = tmp_path / "42" / "net"
    net.mkdir(parents=True)
    (net / "tcp").write_text(
        HEADER
        + "   0: 00000000:1F40 00000000:0000 0A 0 0 0 0 0 0\n"  # 0.0.0.0:8000, listening
        + "   1: 0100007F:1F41 00000000:0000 0A 0 0 0 0 0 0\n"  # 127.0.0.1:8001: loopback only
        + "   2: 0B00007F:0035 00000000:0000 0A 0 0 0 0 0 0\n"  # 127.0.0.11:53: loopback too
        + "   3: 0501A8C0:1F40 0601A8C0:D431 01 0 0 0 0 0 0\n"  # an established connection
    )
    (net / "tcp6").write_text(
        HEADER + "   0: 00000000000000000000000000000000:1538 00000000000000000000000000000000:0000"
        " 0A 0 0 0 0 0 0\n"  # [::]:5432
         + "   1: 00000000000000000000000001000000:1539 00000000000000000000000000000000:0000"
        " 0A 0 0 0 0 0 0\n"  # [::1]:5433
    )
    assert listening_ports(42, tmp_path) == {8000, 5432}
    assert listening_ports(43, tmp_path) == set()  # gone
