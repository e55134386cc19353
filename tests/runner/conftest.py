"""Fixtures of the runner layer: one act environment per session (see tests/support/act_harness.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.act_harness import ActEnv, start_act_env


@pytest.fixture(scope="session")
def act_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActEnv]:
    yield from start_act_env(Path(tmp_path_factory.mktemp("act")))
