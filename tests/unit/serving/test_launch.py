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
