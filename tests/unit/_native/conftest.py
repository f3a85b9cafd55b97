from __future__ import annotations

import pytest

from ze._native import compiled, pure


@pytest.fixture(params=[compiled, pure], ids=["cffi", "pure"])
def impl(request):
    return request.param
