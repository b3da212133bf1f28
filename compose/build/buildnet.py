"""The network of a RUN with ``--network=default``: like BuildKit's, its own network namespace
on a bridge, with a way out (it reaches a package index, never the host's 127.0.0.1 or ports).

- the bridge: one netplug network per state dir (``BRIDGE_PROJECT``/``<hash of the IPAM root>``;
  its subnet from daemon.json's address pools), made at the first build that needs it and kept,
  as docker keeps docker0: the next build verifies it (``ensure_network`` is idempotent) and
  uses it. Each build holds a shared flock on ``<ipam>/_build.users`` while it uses it;
  ``remove`` (``pycompose builder prune``) takes it exclusively under the ``_build.lock``
  mutex, so it never removes the bridge under a running build. ``down`` never touches it (no
  compose project is named ``_build``). The first build to join, when no other runs, removes
  what a SIGKILLed build left (its RUNs' netns files: then the bridge too, made afresh);
- the way out: each build's ``netplug.egress`` relay on the gateway (two sockets of the build's
  process, gone with it): a RUN's TCP leaving the subnet and its DNS (the gateway is its
  nameserver; the relay asks the host's, loopback ones too) are made by the host's own
  sockets, as rootless BuildKit's slirp does. So a RUN gets out wherever the host does, also
  where the host's firewall drops forwarded packets (the test machines do; NAT alone then
  leaves RUNs without a package index). Other UDP and ICMP leave by the bridge's masquerade
  where forwarding is allowed;
- each RUN: a netns ``build-<network>-<run id>`` attached by a veth pair (netplug's
  ``attach``) and its relay rules (one nft table), all removed when the RUN ends, whatever
  way it ends (the deletions in a thread the build's end waits for: a veth deletion waits
  ~20 ms for the kernel).

Cost (2 cores, load ~4): ~12 ms a RUN over ``host`` (netns, veth, relay table); the first build
pays ~0.2-0.3 s more for the bridge (joined in the background at the first miss), later ones
~40 ms to verify it.

``none`` and ``host`` need nothing from here (the runtime makes a loopback-only namespace or
stays in the host's).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from compose import paths
from compose.errors import BuildError

BRIDGE_PROJECT = "_build"  # no compose project is named so (names start with [a-z0-9])
NETNS_PREFIX = "build-"


def network_name(ipam_root: Path) -> str:
    return hashlib.sha256(str(ipam_root).encode()).hexdigest()[:8]


class BuildNetwork:
    """One build's use of the build bridge: joined at its first default-network RUN,
    left by ``close`` (idempotent)."""

    def __init__(self, ipam_root: Path | None = None) -> None:
        self.ipam_root = ipam_root or paths.ipam_dir()
        self._lock = threading.Lock()
        self._users: IO[str] | None = None
        self._cfg: Any = None
        self._info: Any = None  # netplug.NetworkInfo, once joined
        self._relay: Any = None  # netplug.egress.EgressRelay, once joined
        self._warming: threading.Thread | None = None
        self._releases: list[threading.Thread] = []

    @property
    def config(self) -> Any:  # netplug.NetworkConfig
        if self._cfg is None:
            from netplug import NetworkConfig

            self._cfg = NetworkConfig(BRIDGE_PROJECT, network_name(self.ipam_root))
        return self._cfg

    @property
    def gateway(self) -> str:
        """The bridge's address: the RUN's nameserver (the relay answers there)."""
        self._join()
        return str(self._info.gateway)

    @contextlib.contextmanager
    def sandbox(self, run_id: str) -> Iterator[Path]:
        """A netns for one RUN, attached to the bridge, its outbound traffic relayed; removed
        on the way out."""
        import netplug
        from netplug.egress import open_egress

        self._join()
        name = f"{self._netns_prefix()}{run_id}"
        request = [netplug.AttachRequest(self.config)]
        try:
            netns = netplug.create_replica_netns(name)
            (att,) = netplug.attach(
                BRIDGE_PROJECT, name, request, netns, ipam_root=self.ipam_root, dns_redirect=False
            )
            net = self.config.name
            open_egress(BRIDGE_PROJECT, net, name, att.ip, self._info.subnet, self._relay)
            yield netns
        except netplug.NetplugError as err:
            raise BuildError(f"the build network: {err}") from err
        finally:
            # deleting a veth waits for the kernel (~20 ms): the next step need not
            release = threading.Thread(target=self._release, args=(name, request), daemon=True)
            release.start()
            with self._lock:
                self._releases.append(release)

    def _release(self, name: str, request: list[Any]) -> None:
        import netplug
        from netplug.egress import close_egress

        with contextlib.suppress(netplug.NetplugError, OSError):
            close_egress(BRIDGE_PROJECT, self.config.name, name)
        # the netns first: the kernel then deletes the veth pair itself (detach finds it gone)
        with contextlib.suppress(netplug.NetplugError, OSError):
            netplug.remove_replica_netns(name)
        with contextlib.suppress(netplug.NetplugError, OSError):
            netplug.detach(BRIDGE_PROJECT, name, request, ipam_root=self.ipam_root)

    def warm(self) -> None:
        """Join in the background (a step missed: a RUN may come); errors show at the RUN."""
        with self._lock:
            if self._warming is not None or self._users is not None:
                return
            self._warming = threading.Thread(target=self._try_join, daemon=True)
            self._warming.start()

    def _try_join(self) -> None:
        with contextlib.suppress(Exception):
            self._join()

    def _join(self) -> None:
        with self._lock:
            if self._users is not None:
                return
            with self._mutex():
                users = open(self.ipam_root / "_build.users", "a")  # held till close
                try:
                    if _try_exclusive(users):
                        self._remove_stale()
                    fcntl.flock(users, fcntl.LOCK_SH)
                    self._ensure()
                except BaseException:
                    users.close()
                    raise
                self._users = users

    def _remove_stale(self, everything: bool = False) -> bool:
        """What a killed build left (called with no build using the bridge): its RUNs'
        netns files (their veths go with them), then the bridge, its nft tables and IPAM
        entries (a RUN's table or address may be left too: the bridge is made afresh). With
        ``everything``, the bridge goes in any case. True when the bridge was removed."""
        import netplug
        from netplug.netns import default_run_dir

        stale = False
        with contextlib.suppress(OSError):
            for path in default_run_dir().glob(self._netns_prefix() + "*"):
                stale = True
                with contextlib.suppress(netplug.NetplugError, OSError):
                    netplug.remove_replica_netns(path.name)
        if not (stale or everything):
            return False
        if netplug.network_info(self.config, self.ipam_root) is None:
            return False
        with contextlib.suppress(netplug.NetplugError, OSError):
            netplug.remove_network(self.config, ipam_root=self.ipam_root)
        return True

    def remove(self) -> bool | None:
        """Remove the build bridge (``builder prune``) unless a build uses it (then None);
        True when there was one."""
        if not self.ipam_root.is_dir():
            return False
        with self._mutex():
            users = open(self.ipam_root / "_build.users", "a")
            try:
                if not _try_exclusive(users):
                    return None
                return self._remove_stale(everything=True)
            finally:
                users.close()

    def _netns_prefix(self) -> str:
        return f"{NETNS_PREFIX}{self.config.name}-"

    def _ensure(self) -> None:
        import netplug
        from compose.supervisor.machine.netconfig import load_network_settings
        from netplug.egress import EgressRelay

        settings = load_network_settings()
        try:
            self._info = netplug.ensure_network(
                self.config,
                ipam_root=self.ipam_root,
                address_pools=settings.pools,
                ip_forward=settings.ip_forward,
            )
            self._relay = EgressRelay(self._info.gateway, host_nameservers())
        except (netplug.NetplugError, OSError) as err:
            raise BuildError(f"the build network: {err}") from err

    def close(self) -> None:
        with self._lock:
            waits = [t for t in (self._warming, *self._releases) if t is not None]
            self._releases = []
        for thread in waits:
            thread.join()
        with self._lock:
            if self._relay is not None:
                self._relay.close()
                self._relay = None
            users, self._users = self._users, None
            if users is None:
                return
            users.close()  # the bridge stays for the next build (``remove`` removes it)

    @contextlib.contextmanager
    def _mutex(self) -> Iterator[None]:
        self.ipam_root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.ipam_root / "_build.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def host_nameservers() -> list[str]:
    """The host's nameservers, loopback ones too (the relay asks them from the host)."""
    from netplug.dns import host_nameservers as listed

    return listed()[:3] or ["127.0.0.1"]


def _try_exclusive(fh: IO[str]) -> bool:
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
