"""``pycompose kube convert`` as a user runs it: output, files, flags, exit codes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kube_helpers import write_stack

from compose.cli import run

STACK = """
services:
  web:
    image: "nginx:${TAG}"
    ports: ["8080:80"]
    depends_on: [db]
    group_add: ["101"]
  db:
    image: postgres
    expose: ["5432"]
    volumes: [pgdata:/var/lib/postgresql/data]
  debug:
    image: busybox
    profiles: [debug]
volumes: {pgdata: {}}
"""


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    return write_stack(tmp_path, STACK, files={".env": "TAG=1.27\n"})


def kube(stack: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, str, str]:
    code = run(["-f", str(stack), "kube", "convert", *flags])
    out, err = capsys.readouterr()
    return code, out, err


def test_stdout_is_a_multi_document_stream(stack: Path, capsys) -> None:
    code, out, err = kube(stack, capsys)
    assert code == 0, err
    docs = list(yaml.safe_load_all(out))
    kinds = [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert kinds == [
        ("PersistentVolumeClaim", "pgdata"),
        ("Service", "db"),
        ("Service", "web"),
        ("Deployment", "db"),
        ("Deployment", "web"),
    ]
    web = docs[-1]["spec"]["template"]["spec"]["containers"][0]
    assert web["image"] == "nginx:1.27"  # .env interpolated, as for every command
    assert "warning: depends_on: Kubernetes starts every pod at once" in err
    # the runtime's own "not supported by pycompose" notes are not the converter's business
    assert "not supported by pycompose" not in err


def test_profiles_and_project_name_as_for_every_command(stack: Path, capsys) -> None:
    code = run(["-f", str(stack), "-p", "shop", "--profile", "debug", "kube", "convert"])
    out, err = capsys.readouterr()
    assert code == 0, err
    docs = list(yaml.safe_load_all(out))
    assert ("Deployment", "debug") in [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert {d["metadata"]["labels"]["app.kubernetes.io/part-of"] for d in docs} == {"shop"}


def test_output_directory_has_a_file_per_object_and_a_kustomization(
    stack: Path, tmp_path: Path, capsys
) -> None:
    out_dir = tmp_path / "k8s"
    code, out, err = kube(stack, capsys, "-o", str(out_dir), "-n", "team")
    assert code == 0, err
    assert out == ""
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == [
        "db-deployment.yaml",
        "db-service.yaml",
        "kustomization.yaml",
        "pgdata-persistentvolumeclaim.yaml",
        "web-deployment.yaml",
        "web-service.yaml",
    ]
    kustomization = yaml.safe_load((out_dir / "kustomization.yaml").read_text())
    assert kustomization["namespace"] == "team"
    assert sorted(kustomization["resources"]) == sorted(
        n for n in names if n != "kustomization.yaml"
    )
    kubectl = shutil.which("kubectl")
    if kubectl:  # kustomize runs offline: the directory is a valid kustomization
        built = subprocess.run(
            [kubectl, "kustomize", str(out_dir)], capture_output=True, text=True, check=True
        )
        assert len(list(yaml.safe_load_all(built.stdout))) == 5


def test_named_services_and_unknown_ones(stack: Path, capsys) -> None:
    code, out, _ = kube(stack, capsys, "db")
    assert code == 0
    assert {d["metadata"]["name"] for d in yaml.safe_load_all(out)} == {"db", "pgdata"}
    code, _, err = kube(stack, capsys, "nope")
    assert code == 1
    assert 'error: no such service: "nope"' in err


def test_strict_fails_with_exit_1_and_every_warning(stack: Path, capsys) -> None:
    code, out, err = kube(stack, capsys, "--strict")
    assert code == 1
    assert out == ""
    assert "error: depends_on: Kubernetes starts every pod at once" in err
    assert 'error: service "web": published port(s) 8080 are not reachable' in err
    assert "hint: --strict makes every warning an error" in err


def test_strict_passes_when_nothing_is_lost(tmp_path: Path, capsys) -> None:
    clean = write_stack(tmp_path, "services: {web: {image: nginx, expose: ['80']}}\n")
    code, _, err = kube(clean, capsys, "--strict", "--check")
    assert (code, err) == (0, "")


def test_check_validates_before_writing(stack: Path, capsys) -> None:
    code, out, err = kube(stack, capsys, "--check", "--kube-version", "1.29")
    assert code == 0, err
    code, out, err = kube(stack, capsys, "--check", "--kube-version", "1.99")
    assert code == 1 and out == ""
    assert "error: no schema for Kubernetes 1.99" in err


def test_push_with_nothing_to_build_converts_as_without_it(stack: Path, capsys) -> None:
    assert kube(stack, capsys, "--push", "registry.example:5000")[:2] == kube(stack, capsys)[:2]


def test_help_and_config_do_not_import_the_converter(stack: Path) -> None:
    probe = (
        "import sys; from compose.cli import run; code = run(sys.argv[1:]);"
        "print('KUBE', 'compose.kube' in sys.modules, code, file=sys.stderr)"
    )
    for args in (["--help"], ["-f", str(stack), "config"], ["kube", "convert", "--help"]):
        done = subprocess.run(
            [sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True
        )
        assert done.stderr.strip().splitlines()[-1] == "KUBE False 0", args
