"""plan_up / plan_down on plain data: what `up` and `down` would do, as --dry-run prints it."""

from __future__ import annotations

from compose.planner import (
    DesiredProject,
    DesiredService,
    DownOptions,
    Need,
    UpOptions,
    plan_down,
    plan_up,
)
from compose.state import (
    NetworkRecord,
    ObservedProject,
    ObservedReplica,
    ProjectRecord,
    ReplicaRecord as Rec,
)


def stack(**replicas: int) -> DesiredProject:
    db = DesiredService(
        "db", replicas.get("db", 1), "h-db", networks=("default",), volumes=("data",)
    )
    web = DesiredService(
        "web",
        replicas.get("web", 1),
        "h-web",
        depends_on=(Need("db", "service_healthy", restart=True),),
        networks=("default",),
    )
    return DesiredProject("p", (db, web), {"default": False}, {"data": False})


def observed(*recs: Rec, alive: bool = True) -> ObservedProject:
    nets = (NetworkRecord("default", "p_default"),)
    project = ProjectRecord("p", networks=nets, volumes=("p_data",))
    return ObservedProject("p", project, tuple(ObservedReplica(r, alive) for r in recs))


def running(service: str, index: int, config_hash: str) -> Rec:
    return Rec("p", service, index, config_hash=config_hash, status="running", pid=1)


def lines(plan) -> list[str]:
    return plan.render().splitlines()


def test_fresh_up_creates_everything_in_dependency_order():
    plan = plan_up(stack(), ObservedProject("p", None, ()), UpOptions())
    assert lines(plan) == [
        "Network p_default  Create",
        "Volume p_data  Create",
        "Container p-db-1  Create",
        "Container p-db-1  Start",
        "Container p-web-1  Create",
        "Container p-web-1  Start",
    ]
    web = plan.services[1]
    assert [(w.service, w.condition) for w in web.waits] == [("db", "service_healthy")]


def test_up_to_date_project_has_nothing_to_do():
    plan = plan_up(
        stack(), observed(running("db", 1, "h-db"), running("web", 1, "h-web")), UpOptions()
    )
    assert plan.empty and lines(plan) == ["Nothing to do"]
    kept = [(a.name, a.verb) for s in plan.services for a in s.actions]
    assert kept == [("p-db-1", "Running"), ("p-web-1", "Running")]  # docker's `Running` lines


def test_changed_hash_recreates_it_and_restarts_dependents_that_ask():
    obs = observed(running("db", 1, "old"), running("web", 1, "h-web"))
    assert lines(plan_up(stack(), obs, UpOptions())) == [
        "Container p-db-1  Recreate",
        "Container p-web-1  Restart",
    ]


def test_no_recreate_and_force_recreate():
    obs = observed(running("db", 1, "old"), running("web", 1, "h-web"))
    assert plan_up(stack(), obs, UpOptions(no_recreate=True)).empty
    forced = plan_up(stack(), obs, UpOptions(force_recreate=True))
    assert [a.verb for s in forced.services for a in s.actions] == ["Recreate", "Recreate"]


def test_force_recreate_of_named_services_keeps_their_dependencies_unless_asked():
    obs = observed(running("db", 1, "h-db"), running("web", 1, "h-web"))
    named = plan_up(stack(), obs, UpOptions(services=("web",), force_recreate=True))
    assert lines(named) == ["Container p-web-1  Recreate"]  # db: `Running`, as docker's
    deps = UpOptions(services=("web",), force_recreate=True, always_recreate_deps=True)
    assert lines(plan_up(stack(), obs, deps)) == [
        "Container p-db-1  Recreate",
        "Container p-web-1  Recreate",
    ]
    only_deps = UpOptions(services=("web",), always_recreate_deps=True)
    assert lines(plan_up(stack(), obs, only_deps)) == [
        "Container p-db-1  Recreate",
        "Container p-web-1  Restart",  # its dependency was recreated and it asks (restart: true)
    ]


def test_exited_replica_is_started_again():
    obs = observed(running("db", 1, "h-db"), running("web", 1, "h-web"), alive=False)
    assert [a.verb for s in plan_up(stack(), obs, UpOptions()).services for a in s.actions] == [
        "Start",
        "Start",
    ]


def test_a_creation_a_crash_cut_short_is_made_anew_not_recreated():
    """kill -9 during `up` leaves records without a container (no config hash either): the
    next `up` removes and creates them, it does not recreate them start-first (which waited
    for a successor to serve, 30 s a replica, and printed Recreate for a converged project)."""
    cut = Rec("p", "web", 1, status="created")
    plan = plan_up(stack(), observed(running("db", 1, "h-db"), cut), UpOptions())
    assert [line for line in lines(plan) if "p-web-1" in line] == [
        "Container p-web-1  Remove",
        "Container p-web-1  Create",
        "Container p-web-1  Start",
    ]


def test_a_stopped_replica_is_recreated_stop_first():
    """start-first keeps a running replica serving; a stopped one serves nobody."""
    web = DesiredService("web", 1, "new", networks=("default",), start_first=True)
    desired = DesiredProject("p", (web,), {"default": False})
    obs = observed(running("web", 1, "old"), alive=False)
    web1 = [line for line in lines(plan_up(desired, obs, UpOptions())) if "web-1" in line]
    assert web1 == ["Container p-web-1  Recreate"]
    obs = observed(running("web", 1, "old"))
    web1 = [line for line in lines(plan_up(desired, obs, UpOptions())) if "web-1" in line]
    assert web1 == ["Container p-web-1  Recreate (start-first)"]


def test_scale_up_takes_lowest_free_index_and_down_removes_highest():
    obs = observed(running("db", 1, "h-db"), running("web", 2, "h-web"))
    up = plan_up(stack(), obs, UpOptions(scale={"web": 3}))
    assert lines(up) == [
        "Container p-web-1  Create",
        "Container p-web-1  Start",
        "Container p-web-3  Create",
        "Container p-web-3  Start",
    ]
    obs = observed(running("db", 1, "h-db"), *(running("web", i, "h-web") for i in (1, 2, 3)))
    down = plan_up(stack(), obs, UpOptions(scale={"web": 1}))
    assert lines(down) == [
        "Container p-web-3  Stop",
        "Container p-web-3  Remove",
        "Container p-web-2  Stop",
        "Container p-web-2  Remove",
    ]


def test_no_deps_selects_only_the_named_service():
    plan = plan_up(
        stack(), ObservedProject("p", None, ()), UpOptions(services=("web",), no_deps=True)
    )
    assert [s.service for s in plan.services] == ["web"]
    assert plan.services[0].waits == ()
    with_deps = plan_up(stack(), ObservedProject("p", None, ()), UpOptions(services=("web",)))
    assert [s.service for s in with_deps.services] == ["db", "web"]


def test_orphans_warn_or_are_removed():
    obs = observed(running("db", 1, "h-db"), running("web", 1, "h-web"), running("old", 1, "x"))
    plan = plan_up(stack(), obs, UpOptions())
    assert "p-old-1" in plan.warnings[0] and "--remove-orphans" in plan.warnings[0]
    removed = plan_up(stack(), obs, UpOptions(remove_orphans=True))
    assert lines(removed) == ["Container p-old-1  Stop", "Container p-old-1  Remove"]


def test_down_stops_dependents_first_and_keeps_volumes():
    obs = observed(running("db", 1, "h-db"), running("web", 1, "h-web"))
    plan = plan_down(stack(), obs, DownOptions())
    db = next(s for s in plan.services if s.service == "db")
    assert [(w.service, w.condition) for w in db.waits] == [("web", "stopped")]
    assert lines(plan)[-1] == "Network p_default  Remove"
    assert "Volume p_data  Remove" in lines(
        plan_down(stack(), obs, DownOptions(remove_volumes=True))
    )


def test_down_without_stack_file_removes_all_recorded():
    obs = observed(running("db", 1, "h"), Rec("p", "web", 1, status="exited"))
    plan = plan_down(None, obs, DownOptions())
    assert sorted(lines(plan)) == sorted(
        [
            "Container p-db-1  Stop",
            "Container p-db-1  Remove",
            "Container p-web-1  Remove",
            "Network p_default  Remove",
        ]
    )


def test_container_name_names_the_first_replica():
    svc = DesiredService("db", 1, "h", container_name="my-db")
    plan = plan_up(DesiredProject("p", (svc,)), ObservedProject("p", None, ()), UpOptions())
    assert lines(plan) == ["Container my-db  Create", "Container my-db  Start"]


def test_down_without_stack_file_follows_the_recorded_dependencies():
    """The last `up` recorded who needs whom: `down -p p` from anywhere stops dependents
    first, as with the file (docker compose reads its depends_on label for this)."""
    from dataclasses import replace

    from compose.planner import plan_stop

    recs = (running("db", 1, "h"), running("web", 1, "h"), running("cache", 1, "h"))
    obs = observed(*recs)
    deps = {"web": ("cache", "db"), "cache": ("db",), "db": ()}
    obs = replace(obs, project=replace(obs.project, dependencies=deps))
    for plan in (plan_down(None, obs, DownOptions()), plan_stop(None, obs)):
        waits = {s.service: [w.service for w in s.waits] for s in plan.services}
        assert waits == {"web": [], "cache": ["web"], "db": ["cache", "web"]}
        assert [s.service for s in plan.services] == ["web", "cache", "db"]


def test_renew_anon_volumes_recreates_on_new_anonymous_volumes():
    anon = "a" * 64
    rec = Rec(
        "p", "db", 1, config_hash="old", status="running", pid=1,
        mounts=(f"/v/{anon}/_data:/data",),
    )  # fmt: skip
    web = running("web", 1, "h-web")
    plan = plan_up(stack(), observed(rec, web), UpOptions(renew_anon_volumes=True))
    db = plan.services[0].actions[0]
    assert db.verb == "Recreate" and db.renew and not db.start_first
