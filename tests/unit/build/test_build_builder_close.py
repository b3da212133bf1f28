"""A builder's close waits for its runtime's warm-up: a build that ran no RUN (COPY only) ends
while the warm-up thread may still be making the runtime and starting its zygote; closing
before that thread ended left the zygote to outlive the build (and the interpreter exiting
under that thread ended a CI build with SIGSEGV)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from compose.build.executor import Builder
from compose.images.store import ImageStore


class SlowRuntime:
    made = threading.Event()

    def __init__(self) -> None:
        time.sleep(0.3)  # importing and making the real one takes ~50-100 ms
        self.events: list[str] = []
        SlowRuntime.made.set()

    def warm(self) -> None:
        time.sleep(0.1)
        self.events.append("warm")

    def close(self) -> None:
        self.events.append("close")


def test_close_waits_for_the_warm_up_and_closes_what_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import compose.runtime.launcher as launcher

    monkeypatch.setattr(launcher, "LinuxRuntime", SlowRuntime)
    builder = Builder(ImageStore(tmp_path / "images"))
    builder.warm()
    builder.close()  # at once: the runtime is still being made
    assert SlowRuntime.made.is_set()
    assert builder._runtime is not None and builder._runtime.events == ["warm", "close"]
