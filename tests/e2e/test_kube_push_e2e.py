"""``kube convert --push REGISTRY`` with the real CLI: the built service is built by pycompose's
builder, pushed to a registry on 127.0.0.1, and the manifest names the pushed digest."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from e2e_helpers import Cli
from ruamel.yaml import YAML

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(300)]


def test_push_builds_pushes_and_pins_the_digest(project, registry, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        f"FROM {os.environ['BUSYBOX_IMAGE']}\nRUN echo built > /built\nEXPOSE 8080\n"
    )
    (tmp_path / "compose.yaml").write_text(
        "services:\n  app:\n    build: .\n  cache:\n    image: redis:7\n"
    )
    cli = Cli(project, file=tmp_path / "compose.yaml")
    out = cli.run("kube", "convert", "--push", registry.host)
    assert f"Image {registry.host}/{project}-app:latest Pushed" in out.stderr
    assert "is built, not pulled" not in out.stderr
    docs = list(YAML(typ="safe").load_all(out.stdout))
    images = {
        d["metadata"]["name"]: d["spec"]["template"]["spec"]["containers"][0]["image"]
        for d in docs
        if d["kind"] == "Deployment"
    }
    assert images["cache"] == "redis:7"
    name, _, digest = images["app"].partition("@")
    assert name == f"{registry.host}/{project}-app" and digest.startswith("sha256:")
    accept = "application/vnd.oci.image.manifest.v1+json"
    resp = httpx.get(
        f"http://{registry.host}/v2/{project}-app/manifests/{digest}", headers={"Accept": accept}
    )
    assert resp.status_code == 200
    # the Service reaches the built image's EXPOSE port (the image is in the local store now)
    service = next(d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == "app")
    assert [p["targetPort"] for p in service["spec"]["ports"]] == [8080]
