"""A time-skipping server per deal test: deals are long-running and a test that leaves one waiting (a purchase
decision, a reply timer) would otherwise hold up time skipping for every later test sharing the server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from merchflow.settings import bin_path


@pytest.fixture
async def deal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(bin_path("temporal-test-server")),
        data_converter=pydantic_data_converter,
    )
    yield env
    await env.shutdown()
