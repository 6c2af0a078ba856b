"""The plugin's tests run with GENTOOL_STRICT_PLUGINS=1 (a broken plugin fails them) on one thread."""

import os

import pytest
import torch

os.environ.setdefault("GENTOOL_STRICT_PLUGINS", "1")


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
