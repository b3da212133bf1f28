"""`down --rmi all` removes the project's images, except one another project's containers
still use (its layers are their overlays' lower dirs); `image rm` refuses that one too."""

from __future__ import annotations

import pytest
from e2e_helpers import Cli, write_stack

pytestmark = [pytest.mark.e2e, pytest.mark.privileged, pytest.mark.timeout(120)]

STACK = """
services:
  app:
    image: IMAGE
    command: SLEEP
"""


def test_down_rmi_all_keeps_an_image_another_project_uses(project, tmp_path):
    path = write_stack(tmp_path, STACK)
    ours, other = Cli(project, file=path), Cli(f"{project}b", file=path)
    image = ours.run("config", "--images").stdout.strip()
    ours.run("up", "-d")
    other.run("up", "-d")
    try:
        assert f"Image {image}  Remove" in ours.run("down", "--rmi", "all", "--dry-run").stdout
        err = ours.run("down", "--rmi", "all", "-t", "1").stderr
        assert f"image {image} is used by container {project}b-app-1: not removed" in err
        refused = ours.run("image", "rm", image, check=False)
        assert refused.returncode == 1
        assert f"container {project}b-app-1 is using it" in refused.stderr
        err = other.run("down", "--rmi", "all", "-t", "1").stderr
        assert f"Image {image}  Removed" in err
        assert image.rsplit(":", 1)[0] not in ours.run("image", "ls").stdout
    finally:
        other.run("down", "-t", "1", check=False)
