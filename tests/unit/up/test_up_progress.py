"""`--progress`: what each renderer writes for the same steps, and which one `auto` picks."""

from __future__ import annotations

import io
import json

from compose.cli.progress import LiveView, make, resolve
from compose.planner.actions import EnsureNetwork, EnsureVolume, Plan
from compose.progress import Step, pair

STEPS = [
    Step("Network", "p_default", "Creating", done=False),
    Step("Network", "p_default", "Created"),
    Step("Container", "p-web-1", "Starting", done=False),
    Step("Container", "p-web-1", "Error", error=True, text="exec format error"),
]


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def rendered(mode: str, ansi: str = "auto") -> str:
    out = io.StringIO()
    renderer = make(mode, ansi, out)
    for step in STEPS:
        renderer.step(step)
    renderer.message("Gracefully Stopping... press Ctrl+C again to force")
    renderer.close()
    return out.getvalue()


def test_plain_lines_are_docker_composes():
    assert rendered("plain").splitlines() == [
        " Network p_default  Creating",
        " Network p_default  Created",
        " Container p-web-1  Starting",
        " Container p-web-1  Error exec format error",
        "Gracefully Stopping... press Ctrl+C again to force",
    ]


def test_json_is_one_object_per_step_with_docker_composes_fields():
    docs = [json.loads(line) for line in rendered("json").splitlines()]
    assert docs[0] == {"id": "Network p_default", "status": "Creating"}
    assert docs[3] == {
        "id": "Container p-web-1",
        "status": "Error",
        "text": "exec format error",
        "error": True,
    }
    assert docs[4] == {"text": "Gracefully Stopping... press Ctrl+C again to force"}


def test_quiet_writes_nothing():
    assert rendered("quiet") == ""


def test_auto_is_tty_on_a_terminal_unless_ansi_never():
    assert resolve("auto", "auto", Tty()) == "tty"
    assert resolve("auto", "never", Tty()) == "plain"
    assert resolve("auto", "auto", io.StringIO()) == "plain"
    assert resolve("plain", "always", Tty()) == "plain"


def test_live_view_keeps_one_line_per_object_with_its_last_state():
    out = Tty()
    view = LiveView(out, color=False)
    for step in STEPS:
        view.step(step)
    assert [r.step.status for r in view.rows.values()] == ["Created", "Error"]
    view.close()
    text = out.getvalue()
    assert "Running 2/2" in text and "Network p_default" in text and "exec format error" in text


def test_pair_words_a_verb_as_docker_does():
    assert [s.status for s in pair("Container", "w", "Stopped")] == ["Stopping", "Stopped"]
    assert [s.status for s in pair("Container", "w", "Paused")] == ["Paused"]
    assert [s.status for s in pair("Container", "w", "Started", "Restarting")] == [
        "Restarting",
        "Started",
    ]


def test_what_exists_is_ensured_but_not_shown():
    plan = Plan(
        setup=(
            EnsureNetwork("default", "p_default", exists=True),
            EnsureVolume("data", "p_data", external=True),
            EnsureNetwork("back", "p_back"),
        )
    )
    assert plan.render() == "Network p_back  Create"
