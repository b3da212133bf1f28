"""postgres:15 from Debian's postgresql-15, set up as Docker's official image is where a stack
can tell: the entrypoint initializes ``$PGDATA`` on the first start (``POSTGRES_USER``,
``POSTGRES_PASSWORD``, ``POSTGRES_DB``; ``trust`` locally, ``scram-sha-256`` over TCP), the
server listens on every address, ``VOLUME /var/lib/postgresql/data``, ``STOPSIGNAL SIGINT``
(fast shutdown: SIGTERM's smart shutdown waits for every client), ``EXPOSE 5432``, and the
server and ``psql``/``pg_isready`` are on the PATH. It runs as the postgres user (uid 999)
from the start (the official image starts as root and drops to it).

Two layers on top of the shared ones: the packages (Debian's perl wrappers, LLVM for the JIT
and locales left out), and a small one with the user, the owned directories and the
entrypoint.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tests.images import oci

PACKAGES = ["postgresql-15", "postgresql-client-15"]
# perl wrappers (pg_ctlcluster, the psql wrapper), the JIT's LLVM, locale data, SSL snakeoil
# certificates and elogind (libsystemd0 is there): nothing the server or psql needs here
EXCLUDE = [
    "postgresql-common",
    "postgresql-client-common",
    "perl",
    "libperl5.36",
    "perl-modules-5.36",
    "libjson-perl",
    "ssl-cert",
    "libllvm14",
    "locales",
    "locales-all",
    "sysstat",
    "libelogind0",
]
# psql's readline, which debs.SKIP leaves out of every closure (only optional modules use it)
ALSO = ["libreadline8", "libtinfo6"]
UID = 999
BIN = "/usr/lib/postgresql/15/bin"
PGDATA = "/var/lib/postgresql/data"
ENTRYPOINT = """#!/bin/sh
# Docker's postgres entrypoint, in short: initialize an empty PGDATA, then run the command.
set -e
if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwfile=$(mktemp)
    printf '%s\\n' "${POSTGRES_PASSWORD:-postgres}" > "$pwfile"
    initdb -D "$PGDATA" -U "${POSTGRES_USER:-postgres}" --pwfile="$pwfile" -E UTF8 \\
        --locale=C --auth-local=trust --auth-host=scram-sha-256 > /dev/null
    rm -f "$pwfile"
    echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    if [ -n "$POSTGRES_DB" ] && [ "$POSTGRES_DB" != "${POSTGRES_USER:-postgres}" ]; then
        echo "CREATE DATABASE \\"$POSTGRES_DB\\"" \\
            | postgres --single -D "$PGDATA" postgres > /dev/null
    fi
    echo "PostgreSQL init process complete; ready for start up."
fi
exec "$@"
"""


def prune(root: Path) -> None:
    """The package layer: no Debian cluster config (the entrypoint makes its own)."""
    for sub in ("etc/postgresql", "etc/postgresql-common", "var/lib/postgresql"):
        target = root / sub
        if target.is_dir():
            for path in sorted(target.rglob("*"), reverse=True):
                path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
            target.rmdir()


def setup_layer(blobs: Path, passwd: str, group: str) -> oci.Layer:
    """The postgres user, its owned directories (the data dir mode 0700, as initdb wants)
    and the entrypoint."""
    with tempfile.TemporaryDirectory(dir=blobs.parent) as tmp:
        root = Path(tmp) / "root"
        owned = ["var/lib/postgresql", "var/lib/postgresql/data", "var/run/postgresql"]
        for rel in owned:
            (root / rel).mkdir(parents=True, exist_ok=True)
        os.chmod(root / "var/lib/postgresql/data", 0o700)
        os.chmod(root / "var/run/postgresql", 0o2775)
        (root / "etc").mkdir()
        (root / "etc/passwd").write_text(
            passwd + f"postgres:x:{UID}:{UID}::/var/lib/postgresql:/bin/sh\n"
        )
        (root / "etc/group").write_text(group + f"postgres:x:{UID}:\n")
        entry = root / "usr/local/bin/docker-entrypoint.sh"
        entry.parent.mkdir(parents=True)
        entry.write_text(ENTRYPOINT)
        entry.chmod(0o755)
        owners = {rel: (UID, UID) for rel in owned}
        return oci.make_layer(root, blobs, owners)


def config(path_env: str) -> dict[str, object]:
    return {
        "Env": [f"{path_env}:{BIN}", f"PGDATA={PGDATA}", "LANG=C.UTF-8"],
        "Entrypoint": ["docker-entrypoint.sh"],
        "Cmd": ["postgres"],
        "User": "postgres",
        "ExposedPorts": {"5432/tcp": {}},
        "Volumes": {PGDATA: {}},
        "StopSignal": "SIGINT",
    }
