"""ze against frr in network namespaces: the interop matrix of ze_matrix.py."""

from tests.interop.ze_matrix import *  # noqa: F403 (its test functions, collected here)

DAEMON = "frr"
