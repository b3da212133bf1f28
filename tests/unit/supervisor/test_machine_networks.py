"""The project record under the parallel setup: every network and volume ensured at once (the
executor runs them in parallel worker threads) ends up in it, none lost to another's write."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from compose.planner.actions import EnsureVolume
from compose.supervisor.machine.context import Context
from compose.supervisor.machine.networks import Networks


def test_volumes_ensured_in_parallel_are_all_recorded() -> None:
    networks = Networks(Context("p", runtime=cast(Any, None)))
    names = [f"p_v{i}" for i in range(40)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: networks.ensure_volume(EnsureVolume(n, n)), names))
    assert sorted(networks.project_record().volumes) == sorted(names)
