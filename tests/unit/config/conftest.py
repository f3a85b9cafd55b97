from __future__ import annotations

import pytest

from ze.config.schema import load_schema


@pytest.fixture(scope="session")
def schema():
    return load_schema()
