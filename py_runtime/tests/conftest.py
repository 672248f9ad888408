"""Shared pytest fixtures: the device comes from MGDARTS_TEST_DEVICE (default CPU), one torch thread."""
import os

import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture
def device() -> torch.device:
    return torch.device(os.environ.get("MGDARTS_TEST_DEVICE", "cpu"))
