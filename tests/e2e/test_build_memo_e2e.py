"""An unchanged `pycompose build` is answered from the build memo (compose.build.memo): its
steps are replayed as CACHED without importing the builder or the stack's model; anything that
decides the image (a file, an argument, a Dockerfile line, the .dockerignore, the compose file)
and a removed image make it build again, and the image shows the change (from the remembered
build requests, without the stack's model, when the compose files did not change)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from e2e_helpers import Cli

from compose.build.rootview import RootView
from compose.images.store import ImageStore

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(300)]

DOCKERFILE = "FROM scratch\nARG A\nLABEL a=$A\nCOPY . /app\n"


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    ctx = tmp_path / "ctx"
    (ctx / "src").mkdir(parents=True)
    (ctx / "src" / "one.txt").write_text("one\n")
    (ctx / "two.txt").write_text("two\n")
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "compose.yaml").write_text(
        "services:\n  app:\n    build:\n      context: ./ctx\n      args:\n        A: '1'\n"
    )
    return tmp_path


def build(cli: Cli, *args: str) -> tuple[bool, str]:
    """(answered from the memo?, stderr); waits out the memo's racy window first."""
    time.sleep(0.15)
    proc = cli.run("build", "--progress", "plain", *args, env={"PYTHONPROFILEIMPORTTIME": "1"})
    imports = [line for line in proc.stderr.splitlines() if line.startswith("import time:")]
    shown = "\n".join(line for line in proc.stderr.splitlines() if line not in imports)
    built = any(line.endswith(" compose.build.executor") for line in imports)
    MODEL_IMPORTED[0] = any(line.endswith(" pydantic") for line in imports)
    if not built:
        assert not MODEL_IMPORTED[0]
    return not built, shown


MODEL_IMPORTED = [False]


def image_files(project: str) -> dict[str, str]:
    store = ImageStore(Path(os.environ["PYCOMPOSE_STATE_DIR"]) / "images")
    image = store.resolve(f"{project}-app")
    root = RootView(list(image.layers))
    out = {}
    for rel in ("app/src/one.txt", "app/two.txt", "app/three.txt", "app/Dockerfile"):
        if root.lstat("/" + rel) is not None:
            out[rel] = root.read_text("/" + rel)
    out["label"] = store.read_json(image.config_digest)["config"].get("Labels", {}).get("a", "")
    return out


def test_an_unchanged_build_is_replayed_without_the_builder(project, stack: Path) -> None:
    cli = Cli(project, file=stack / "compose.yaml")
    replayed, _ = build(cli)
    assert not replayed
    replayed, shown = build(cli)
    assert replayed
    assert "[app 1/1] COPY . /app" in shown and "CACHED" in shown
    assert f"Image {project}-app Built" in shown
    assert build(cli, "--no-cache")[0] is False  # never from the memo


def _edit_file(stack: Path, cli: Cli) -> None:
    (stack / "ctx" / "src" / "one.txt").write_text("ONE\n")


def _new_file(stack: Path, cli: Cli) -> None:
    (stack / "ctx" / "three.txt").write_text("three\n")


def _dockerfile(stack: Path, cli: Cli) -> None:
    (stack / "ctx" / "Dockerfile").write_text(
        DOCKERFILE.replace("COPY . /app", "COPY src /app/src")
    )


def _dockerignore(stack: Path, cli: Cli) -> None:
    (stack / "ctx" / ".dockerignore").write_text("two.txt\n")


def _compose_arg(stack: Path, cli: Cli) -> None:
    path = stack / "compose.yaml"
    path.write_text(path.read_text().replace("A: '1'", "A: '2'"))


def _removed_image(stack: Path, cli: Cli) -> None:
    cli.run("down", "--rmi", "local")


CHANGES: dict[str, tuple[Callable[[Path, Cli], None], Callable[[dict[str, str]], bool]]] = {
    "a file's content": (_edit_file, lambda f: f["app/src/one.txt"] == "ONE\n"),
    "a new file": (_new_file, lambda f: f.get("app/three.txt") == "three\n"),
    "a Dockerfile line": (_dockerfile, lambda f: "app/two.txt" not in f),
    "the .dockerignore": (_dockerignore, lambda f: "app/two.txt" not in f),
    "a build arg in the compose file": (_compose_arg, lambda f: f["label"] == "2"),
    "the image removed": (_removed_image, lambda f: f["app/two.txt"] == "two\n"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_what_decides_the_image_makes_it_build_again(project, stack: Path, change: str) -> None:
    cli = Cli(project, file=stack / "compose.yaml")
    build(cli)
    assert build(cli)[0]  # remembered
    edit, shows = CHANGES[change]
    edit(stack, cli)
    replayed, _ = build(cli)
    assert not replayed
    if change in ("a file's content", "a new file", "a Dockerfile line", "the .dockerignore"):
        assert not MODEL_IMPORTED[0]  # the stack did not change: its remembered requests
    assert shows(image_files(project))
    assert build(cli)[0]  # remembered again


def test_a_build_arg_flag_is_part_of_the_memo(project, stack: Path) -> None:
    cli = Cli(project, file=stack / "compose.yaml")
    build(cli, "--build-arg", "A=3")
    assert build(cli, "--build-arg", "A=3")[0]
    assert image_files(project)["label"] == "3"
    assert not build(cli)[0]
    assert image_files(project)["label"] == "1"


def test_the_python_api_builds(project, stack: Path) -> None:
    from compose.build.progress import Progress
    from compose.project.client import ProjectClient
    from compose.stackfile import LoadOptions

    load = LoadOptions(
        files=(str(stack / "compose.yaml"),), project_name=project, environ=dict(os.environ)
    )
    progress = Progress()
    first = ProjectClient(load).build(args={"A": "7"}, progress=progress)["app"]
    assert first.tags == (f"docker.io/library/{project}-app:latest",)
    assert image_files(project)["label"] == "7"
    assert any("COPY . /app" in v.name for v in progress.vertices)
    again = ProjectClient(load).build(args={"A": "7"})["app"]
    assert (again.digest, again.cached, again.steps) == (first.digest, 1, 1)
