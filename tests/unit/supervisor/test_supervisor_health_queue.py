"""Docker healthcheck semantics (pure) and the keyed work queue."""

from __future__ import annotations

import anyio

from compose.supervisor.health import HealthSpec, next_status, test_argv as argv_of
from compose.supervisor.healthspec import effective_healthcheck
from compose.supervisor.workqueue import WorkQueue

SPEC = HealthSpec(("true",), retries=3)


def test_test_forms():
    assert argv_of(["CMD", "redis-cli", "ping"]) == ("redis-cli", "ping")
    assert argv_of(["CMD-SHELL", "curl -f localhost"]) == ("/bin/sh", "-c", "curl -f localhost")
    assert argv_of("pg_isready") == ("/bin/sh", "-c", "pg_isready")
    assert argv_of(["NONE"]) is None and argv_of(None) is None


def test_retries_count_only_after_the_start_period():
    assert next_status("starting", False, 0, SPEC, in_start_period=True) == ("starting", 0)
    status, streak = "starting", 0
    for _ in range(2):
        status, streak = next_status(status, False, streak, SPEC, in_start_period=False)
    assert (status, streak) == ("starting", 2)
    assert next_status(status, False, streak, SPEC, False) == ("unhealthy", 3)
    assert next_status("unhealthy", True, 3, SPEC, False) == ("healthy", 0)


class Check:
    def __init__(self, **fields):
        self.test = fields.pop("test", None)
        self.disable = fields.pop("disable", False)
        self.model_fields_set = set(fields) | ({"test"} if self.test else set())
        for key in ("interval", "timeout", "retries", "start_period", "start_interval"):
            setattr(self, key, fields.get(key, 0))


class Svc:
    def __init__(self, healthcheck=None):
        self.healthcheck = healthcheck


def test_service_healthcheck_over_the_image_one():
    image = {"Test": ["CMD-SHELL", "redis-cli ping"], "Interval": 2_000_000_000, "Retries": 5}
    spec = effective_healthcheck(Svc(), image)
    assert spec == HealthSpec(("/bin/sh", "-c", "redis-cli ping"), interval=2.0, retries=5)
    spec = effective_healthcheck(Svc(Check(interval=0.5)), image)
    assert (spec.argv, spec.interval, spec.retries) == (("/bin/sh", "-c", "redis-cli ping"), 0.5, 5)
    assert effective_healthcheck(Svc(Check(disable=True)), image) is None
    assert effective_healthcheck(Svc(), None) is None


def test_workqueue_dedups_and_requeues_dirty_keys():
    async def main():
        async with anyio.create_task_group() as tg:
            queue = WorkQueue(tg)
            queue.add("web")
            queue.add("web")
            queue.add("db")
            assert len(queue) == 2
            key = await queue.get()
            queue.add(key)  # changed while processing: processed again after done
            assert len(queue) == 1
            queue.done(key)
            got = [await queue.get(), await queue.get()]
            assert sorted(got) == ["db", "web"]
            delay = queue.add_rate_limited("x")
            assert queue.add_rate_limited("x") == delay * 2
            tg.cancel_scope.cancel()

    anyio.run(main)
