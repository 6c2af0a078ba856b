"""The plugin's tests run with GENTOOL_STRICT_PLUGINS=1, so a broken plugin fails them instead of registering nothing."""

import os

import pytest

from gentool.api import one_torch_thread

os.environ.setdefault("GENTOOL_STRICT_PLUGINS", "1")


one_thread = pytest.fixture(autouse=True)(one_torch_thread)
