"""Read and write records atomically. Only the project-lock holder writes."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ctypes

from compose.errors import StateError
from compose.state.layout import child, failures_path, project_dir
from compose.state.records import ProjectRecord, ReplicaRecord, from_dict, to_dict


def atomic_write_json(path: Path, data: dict[str, Any], durable: bool = True) -> None:
    """tmp file in the same dir (+ fsync) + rename (+ fsync(dir)): all or nothing.

    The rename alone makes a write atomic for every reader and across a crash of the writer;
    ``durable`` adds the fsyncs that also survive a power loss (project records use them;
    replica records describe processes that a power loss kills anyway).
    """
    import tempfile  # here: tempfile (+ random, shutil) costs ps/logs ~10 ms to import

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(data, indent=1, sort_keys=True))  # one write, not ~150
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        if durable or not _exchange(tmp, path):
            os.rename(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        _fsync_dir(path.parent)


RENAME_EXCHANGE = 2
AT_FDCWD = -100


@functools.cache
def _libc() -> ctypes.CDLL:
    import ctypes  # here: only writers pay its import

    return ctypes.CDLL(None, use_errno=True)


def _exchange(tmp: str, path: Path) -> bool:
    """Swap ``tmp`` and an existing ``path`` (renameat2 RENAME_EXCHANGE), then unlink the old
    text now at ``tmp``; False when ``path`` does not exist or the filesystem can't swap.

    Readers see the old record or the new one, as with rename(2); but rename over an existing
    file makes ext4 (``auto_da_alloc``) start writing the new data back at once: ~2-3 ms a
    write here against ~0.1 ms for the swap, and the supervisor rewrites each replica's record
    at create, start and every status change."""
    if _libc().renameat2(AT_FDCWD, os.fsencode(tmp), AT_FDCWD, os.fsencode(path), RENAME_EXCHANGE):
        return False  # ENOENT: a new record; EINVAL/ENOSYS: no exchange here (rename does it)
    os.unlink(tmp)
    return True


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise StateError(f"{path}: expected a JSON object")
    return data


class StateStore:
    """All records of one project.

    Parsed replica records are kept per file and reused while the file's stat (inode, mtime,
    ctime, size) is unchanged: every write is a rename of a new file, so a changed record
    always has a new signature. A supervisor reads all records after every start (DNS,
    /etc/hosts, DNAT); 20 replicas made it parse ~900 JSON files, now ~60.
    """

    def __init__(self, project: str) -> None:
        self.project = project
        self.root = project_dir(project)
        self._parsed: dict[str, tuple[tuple[int, ...], ReplicaRecord]] = {}  # by file path

    @property
    def project_file(self) -> Path:
        return self.root / "project.json"

    @property
    def replicas_dir(self) -> Path:
        return self.root / "replicas"

    def exists(self) -> bool:
        return self.project_file.exists() or any(self._replica_files())

    def load_project(self) -> ProjectRecord | None:
        data = read_json(self.project_file)
        return None if data is None else from_dict(ProjectRecord, data, str(self.project_file))

    def save_project(self, record: ProjectRecord) -> None:
        atomic_write_json(self.project_file, to_dict(record))

    def replica_file(self, name: str) -> Path:
        return child(self.replicas_dir, name, ".json")

    def load_replica(self, name: str) -> ReplicaRecord | None:
        return self._read_replica(self.replica_file(name))

    def _read_replica(self, file: Path | str) -> ReplicaRecord | None:
        path = os.fspath(file)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            self._parsed.pop(path, None)
            return None
        signature = (st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)
        cached = self._parsed.get(path)
        if cached is not None and cached[0] == signature:
            return cached[1]
        data = read_json(Path(path))
        if data is None:
            return None
        record = from_dict(ReplicaRecord, data, path)
        self._parsed[path] = (signature, record)
        return record

    def save_replica(self, record: ReplicaRecord) -> None:
        atomic_write_json(self.replica_file(record.name), to_dict(record), durable=False)

    def delete_replica(self, name: str) -> None:
        self.replica_file(name).unlink(missing_ok=True)

    def replicas(self) -> list[ReplicaRecord]:
        files = self._replica_files()
        present = set(files)
        for gone in [p for p in list(self._parsed) if p not in present]:  # list(): threads
            self._parsed.pop(gone, None)
        records = [r for r in map(self._read_replica, files) if r is not None]
        return sorted(records, key=lambda r: (r.service, r.index, r.name))

    def _replica_files(self) -> list[str]:
        """Paths as strings (os.scandir): a scan of 150 records as Paths spent half its time
        hashing and comparing them, and the supervisor scans after every start."""
        try:
            with os.scandir(self.replicas_dir) as entries:
                return [e.path for e in entries if e.name.endswith(".json")]
        except (FileNotFoundError, NotADirectoryError):
            return []

    def failures(self) -> dict[str, str]:
        """Services the control loop gave up on (terminal errors): service -> cause."""
        data = read_json(failures_path(self.project))
        return dict(data.get("failed", {})) if data else {}

    def save_failures(self, failed: dict[str, str]) -> None:
        path = failures_path(self.project)
        if failed:
            atomic_write_json(path, {"schema_version": 1, "failed": failed}, durable=False)
        else:
            path.unlink(missing_ok=True)

    def delete_project(self) -> None:
        """Forget the project entirely (after `down`): records only, never volumes."""
        import shutil

        shutil.rmtree(self.root, ignore_errors=True)
