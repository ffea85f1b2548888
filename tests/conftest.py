"""Fixtures shared by every test directory; the helpers themselves live in ``testkit.py``.

Import helpers with ``from testkit import ...`` (never ``from testkit import``: sub-directories may have
their own conftest.py, and the module name ``conftest`` is then ambiguous).
"""

from __future__ import annotations

import pytest
from testkit import planted_blocks, shared_path


@pytest.fixture
def shared_data():
    """Fixture form of :func:`shared_path`."""
    return shared_path


@pytest.fixture
def blocks():
    return planted_blocks()
