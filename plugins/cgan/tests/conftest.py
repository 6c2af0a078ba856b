"""Every test of the plugin runs on one torch thread."""

import pytest

from gentool.api import one_torch_thread

one_thread = pytest.fixture(autouse=True)(one_torch_thread)
