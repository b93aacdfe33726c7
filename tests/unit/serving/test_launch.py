"""Starting a server: the engine is checked before anything starts, and a server that cannot
start in its child process fails the caller with the child's own words."""

from __future__ import annotations

import pytest

from recommenders_kit.errors import InputError, JobFailedError
from recommenders_kit.serving.launch import background, serve


def test_an_unknown_engine_is_refused_before_anything_starts(tmp_path):
    with pytest.raises(InputError, match=r"engine must be one of \['azureml', 'spark'\]"):
        serve(tmp_path, engine="flask")


def test_a_server_that_cannot_start_reports_its_log(tmp_path):
    starting = background(tmp_path, timeout=60)
    with pytest.raises(JobFailedError, match="holds no model") as info:
        starting.__enter__()
    assert "did not start (exit 1)" in str(info.value)


def test_a_command_server_that_exits_is_reported_at_once(tmp_path):
    import sys
    import time

    from recommenders_kit.serving.launch import command_server, free_port

    command = [sys.executable, "-c", "import sys; print('no model here'); sys.exit(3)"]
    start = time.monotonic()
    with (
        pytest.raises(JobFailedError, match=r"did not start \(exit 3\)") as info,
        command_server(command, f"http://127.0.0.1:{free_port()}/", timeout=60, name="demo"),
    ):
        pass
    assert "no model here" in str(info.value)
    assert time.monotonic() - start < 30
