"""The interop labs: one per daemon test module (module-scoped), torn down after it."""

from __future__ import annotations

import pytest

from tests.interop import ze_matrix


@pytest.fixture(scope="module")
def zelab(request):
    z = ze_matrix.start(request.module.DAEMON)
    yield z
    z.lab.close()
