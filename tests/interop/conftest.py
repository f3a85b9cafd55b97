"""The interop labs: one per daemon test module (module-scoped), torn down after it."""

from __future__ import annotations

import os

import pytest

from tests.interop import ze_matrix
from tests.interop.lab import cleanup_stale


@pytest.fixture(scope="session", autouse=True)
def _stale_labs():
    """Namespaces a killed earlier run left behind (its pid gone) are removed first."""
    if os.geteuid() == 0:
        cleanup_stale()


@pytest.fixture(scope="module")
def zelab(request):
    z = ze_matrix.start(request.module.DAEMON)
    yield z
    z.lab.close()
