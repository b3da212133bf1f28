"""The `scale` request's wait: past its timeout the error names what the loop keeps retrying."""

from __future__ import annotations

import anyio
import pytest
from supervisor_fakes import FakeDriver, FakeService

from compose.errors import OperationError
from compose.supervisor import Supervisor
from compose.supervisor.service import converge_counts


class Events:
    def __init__(self) -> None:
        self.listeners: list = []

    def __call__(self, event: dict) -> None:
        for listener in list(self.listeners):
            listener(event)


def test_a_timed_out_scale_names_the_error_the_loop_retries():
    events = Events()
    driver = FakeDriver(web=FakeService(fail_create="address already in use"))

    async def main():
        async with Supervisor(driver, on_event=events) as sup:
            sup.set_desired({"web": 2})
            with pytest.raises(OperationError) as caught:
                await converge_counts(sup, events.listeners, {"web": 2}, 1.0)
            assert events.listeners == []  # the listener went with the request
            return str(caught.value)

    message = anyio.run(main)
    assert message == (
        'scale: not converged after 1s (still retrying: service "web": address already in use)'
    )
