"""The Dockerfile front end: variables, ARG/ENV scoping, stages, image config and history as
BuildKit writes them, and errors naming Dockerfile:LINE and the instruction."""

from __future__ import annotations

from typing import Any

import pytest

from compose.build.frontend import DockerfileError, FrontendOptions, plan_build
from compose.build.plan import BuildPlan, CopyStep, RunStep, WorkdirStep

BASE: dict[str, Any] = {
    "architecture": "amd64",
    "os": "linux",
    "config": {"Env": ["PATH=/usr/bin:/bin", "FROM_BASE=1"], "Cmd": ["sh"], "OnBuild": None},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "a" * 64]},
    "history": [{"created_by": "base"}],
}
RESOLVED: list[str] = []


def resolve(ref: str) -> dict[str, Any]:
    RESOLVED.append(ref)
    return BASE


def plan(text: str, **opts: Any) -> BuildPlan:
    RESOLVED.clear()
    return plan_build(text, FrontendOptions(**opts), resolve)


def history(p: BuildPlan) -> list[str]:
    return [h.created_by for h in p.target_stage.history]


def test_global_args_only_in_from_until_redeclared() -> None:
    p = plan(
        "ARG IMG=busybox\nARG V=1\nFROM $IMG\nRUN echo $V\nARG V\nRUN echo $V\n",
        build_args={"V": "2"},
    )
    assert RESOLVED == ["docker.io/library/busybox:latest"]
    first, second = p.target_stage.steps
    assert isinstance(first, RunStep) and isinstance(second, RunStep)
    assert "V=2" not in first.env and "V=2" in second.env
    assert history(p) == [
        "RUN /bin/sh -c echo $V # buildkit",
        "ARG V=2",
        "RUN |1 V=2 /bin/sh -c echo $V # buildkit",
    ]


def test_arg_default_is_expanded_and_env_of_same_name_wins() -> None:
    p = plan("FROM busybox\nARG A=x${FROM_BASE}\nENV A=env\nRUN true\n")
    step = p.target_stage.steps[0]
    assert isinstance(step, RunStep)
    assert "A=env" in step.env
    assert history(p)[0] == "ARG A=x1"
    assert history(p)[-1] == "RUN |1 A=env /bin/sh -c true # buildkit"


def test_one_instruction_sees_the_values_from_before_it() -> None:
    p = plan("FROM busybox\nENV abc=hello\nENV abc=bye def=$abc\n")
    assert "def=hello" in p.target_stage.config["Env"]
    assert "abc=bye" in p.target_stage.config["Env"]


def test_entrypoint_resets_an_inherited_cmd_but_not_its_own() -> None:
    inherited = plan('FROM busybox\nENTRYPOINT ["/bin/app"]\n').target_stage.config
    assert "Cmd" not in inherited and inherited["Entrypoint"] == ["/bin/app"]
    own = plan("FROM busybox\nCMD x\nENTRYPOINT /bin/app\n").target_stage.config
    assert own["Cmd"] == ["/bin/sh", "-c", "x"]
    assert own["Entrypoint"] == ["/bin/sh", "-c", "/bin/app"]


def test_shell_changes_later_shell_forms() -> None:
    p = plan('FROM busybox\nSHELL ["/bin/bash", "-eo", "pipefail", "-c"]\nRUN a | b\nCMD c\n')
    step = p.target_stage.steps[0]
    assert isinstance(step, RunStep)
    assert step.argv == ("/bin/bash", "-eo", "pipefail", "-c", "a | b")
    assert p.target_stage.config["Cmd"] == ["/bin/bash", "-eo", "pipefail", "-c", "c"]
    assert history(p)[0] == "SHELL [/bin/bash -eo pipefail -c]"


def test_workdir_relative_owned_by_user_and_root_makes_no_layer() -> None:
    p = plan("FROM busybox\nUSER app\nWORKDIR /srv\nWORKDIR data\nWORKDIR /\n")
    steps = p.target_stage.steps
    assert [(s.path, s.user) for s in steps if isinstance(s, WorkdirStep)] == [
        ("/srv", "app"),
        ("/srv/data", "app"),
    ]
    assert history(p) == [
        "USER app",
        "WORKDIR /srv",
        "WORKDIR /srv/data",
        "WORKDIR /",
    ]


def test_copy_destinations_and_history() -> None:
    p = plan(
        "FROM busybox\nWORKDIR /app\nCOPY --chown=1:2 --chmod=644 a b ./\n"
        "COPY c sub\nADD --link d /abs/\n"
    )
    copies = [s for s in p.target_stage.steps if isinstance(s, CopyStep)]
    assert [c.dest for c in copies] == ["/app/", "/app/sub", "/abs/"]
    assert copies[0].chown == "1:2" and copies[0].chmod == "644"
    assert copies[2].is_add and copies[2].link
    assert history(p)[1:] == [
        "COPY --chown=1:2 --chmod=644 a b ./ # buildkit",
        "COPY c sub # buildkit",
        "ADD d /abs/ # buildkit",
    ]


def test_metadata_config_and_history_strings() -> None:
    p = plan(
        'FROM busybox\nLABEL a=b "c d"=e\nEXPOSE 80 53/udp\nVOLUME /data\n'
        "STOPSIGNAL SIGINT\nHEALTHCHECK --interval=5s --retries=3 CMD wget -q localhost\n"
        "MAINTAINER me\nONBUILD RUN echo hi\n"
    )
    cfg = p.target_stage.config
    assert cfg["Labels"] == {"a": "b", "c d": "e"}
    assert cfg["ExposedPorts"] == {"53/udp": {}, "80/tcp": {}}
    assert cfg["Volumes"] == {"/data": {}}
    assert cfg["StopSignal"] == "SIGINT"
    assert cfg["Healthcheck"] == {
        "Test": ["CMD-SHELL", "wget -q localhost"],
        "Interval": 5_000_000_000,
        "Retries": 3,
    }
    assert cfg["OnBuild"] == ["RUN echo hi"]
    assert p.target_stage.author == "me"
    assert history(p) == [
        "LABEL a=b c d=e",
        "EXPOSE [53/udp 80/tcp]",
        "VOLUME [/data]",
        "STOPSIGNAL SIGINT",
        "HEALTHCHECK {Test:[CMD-SHELL wget -q localhost] Interval:5s Timeout:0s "
        "StartPeriod:0s StartInterval:0s Retries:3}",
        "MAINTAINER me",
    ]


def test_only_needed_stages_are_planned_and_named_by_index() -> None:
    p = plan(
        "FROM busybox AS a\nRUN a\nFROM busybox AS unused\nRUN x\n"
        "FROM busybox\nCOPY --from=0 /x /y\nCOPY --from=a /x /z\n"
    )
    assert [s.index for s in p.stages] == [0, 2]
    assert p.target_stage.needs == {0}
    assert p.target_stage.prefix(2) == "[stage-2 2/3]"
    assert plan("FROM busybox\nRUN x\n").target_stage.prefix(2) == "[2/2]"


def test_target_and_stage_inheritance_of_args() -> None:
    p = plan(
        "FROM busybox AS base\nARG V=1\nFROM base AS dev\nRUN echo\nFROM base AS prod\n",
        target="dev",
    )
    assert p.target_stage.name == "dev"
    step = p.target_stage.steps[0]
    assert isinstance(step, RunStep) and "V=1" in step.env


def test_onbuild_triggers_run_after_from() -> None:
    p = plan("FROM busybox AS lib\nONBUILD RUN echo trigger\nFROM lib\nRUN echo own\n")
    steps = p.target_stage.steps
    assert [s.display for s in steps] == ["ONBUILD RUN echo trigger", "RUN echo own"]
    assert "OnBuild" not in p.target_stage.config


def test_heredocs() -> None:
    p = plan(
        "FROM busybox\nRUN <<EOF\necho $HOME\nEOF\nRUN <<-'S'\n\t#!/bin/sh\n\techo x\n\tS\n"
        "COPY <<A <<'B' /etc/\nhi $FROM_BASE\nA\nlit $FROM_BASE\nB\n"
    )
    run1, run2, copy = p.target_stage.steps
    assert isinstance(run1, RunStep) and run1.argv == ("/bin/sh", "-c", "echo $HOME\n")
    assert isinstance(run2, RunStep) and run2.argv == ("/bin/sh", "-c", "/dev/pipes/S")
    assert run2.files[0].data == "#!/bin/sh\necho x\n" and run2.files[0].mode == 0o755
    assert isinstance(copy, CopyStep)
    assert [(f.path, f.data) for f in copy.inline] == [("A", "hi 1\n"), ("B", "lit $FROM_BASE\n")]


def test_predefined_proxy_args_reach_run_but_not_its_key_or_history() -> None:
    p = plan("FROM busybox\nRUN true\n", build_args={"HTTP_PROXY": "http://p:1"})
    step = p.target_stage.steps[0]
    assert isinstance(step, RunStep)
    assert "HTTP_PROXY=http://p:1" in step.proxy_env and "http_proxy=http://p:1" in step.proxy_env
    assert not any("PROXY" in e for e in step.env)
    assert history(p) == ["RUN /bin/sh -c true # buildkit"]


def test_platform_args_and_other_platforms_refused() -> None:
    p = plan("FROM busybox\nARG TARGETARCH\nRUN echo $TARGETARCH\n")
    step = p.target_stage.steps[0]
    assert isinstance(step, RunStep) and "TARGETARCH=amd64" in step.env
    with pytest.raises(DockerfileError, match="linux/arm64 is not supported") as err:
        plan("FROM --platform=linux/arm64 busybox\n")
    assert err.value.line == 1
    plan("FROM --platform=$BUILDPLATFORM busybox\n")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("FROM busybox\nCPY a b\n", 2, "unknown instruction: CPY (did you mean copy?)"),
        ("FROM busybox\nARG X=a\nCOPY --from=$X /a /b\n", 3, "variable expansion is not supported"),
        ("FROM busybox\nCOPY --frm=x a b\n", 2, "unknown flag: --frm"),
        ("RUN x\n", 1, "only ARG may come before the first FROM"),
        ("FROM busybox\nRUN --mount=type=foo true\n", 2, 'unsupported mount type "foo"'),
        ("FROM busybox\nENV X=${Y:?needs_Y}\n", 2, "Y: needs_Y"),
        ("FROM busybox\nSTOPSIGNAL SIGFOO\n", 2, "invalid signal"),
        ("FROM busybox\nCOPY --chmod=999 a b\n", 2, "invalid chmod"),
        ("FROM busybox\nCOPY http://x/y /z\n", 2, "source can't be a URL for COPY"),
        ("FROM busybox\nCOPY git://h/r.git#main /z\n", 2, "source can't be a git ref for COPY"),
        ("FROM busybox\nADD --checksum=sha256:00 git@h:r.git /z\n", 2, "expected hex commit"),
        ("FROM busybox\nRUN <<EOF\nnever closed\n", 2, "unterminated heredoc"),
        (
            "FROM busybox\nCOPY --from=later /a /b\nFROM busybox AS later\nCOPY --from=0 / /\n",
            2,
            "defined before",
        ),
    ],
)
def test_errors_name_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(DockerfileError) as err:
        plan(text)
    assert err.value.line == line
    assert message in err.value.message


def test_a_line_longer_than_64k_is_refused() -> None:
    with pytest.raises(DockerfileError, match="max allowed size"):
        plan("FROM busybox\nRUN " + "x" * 70_000 + "\n")


def test_too_many_layers_are_refused_before_anything_runs() -> None:
    text = "FROM busybox\n" + "RUN true\n" * 600
    with pytest.raises(DockerfileError, match="at most 500"):
        plan(text)


def test_a_long_dockerfile_of_metadata_is_fine() -> None:
    text = "FROM busybox\n" + "".join(f"ENV V{i}={i}\n" for i in range(20_000))
    assert len(plan(text).target_stage.history) == 20_000


def test_labels_of_the_build_go_on_the_target_only() -> None:
    p = plan("FROM busybox AS a\nFROM a\n", labels={"com.docker.compose.project": "p"})
    assert p.target_stage.config["Labels"] == {"com.docker.compose.project": "p"}
    assert "Labels" not in p.stage(0).config


def test_a_100k_line_dockerfile_is_refused_before_any_step_is_planned() -> None:
    text = "FROM busybox\n" + "RUN true\n" * 100_000
    with pytest.raises(DockerfileError, match="100001 layers; overlayfs stacks at most 500"):
        plan(text)
