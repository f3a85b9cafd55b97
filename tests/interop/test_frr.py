"""ze against frr in network namespaces: the interop matrix of ze_matrix.py."""

from tests.interop.ze_matrix import (  # noqa: F401 (collected by pytest)
    test_addpath,
    test_addpath_received,
    test_admin_stop_sends_a_shutdown_communication,
    test_established,
    test_gtsm_one_hop_establishes,
    test_md5_right_password_establishes,
    test_md5_wrong_password_does_not,
    test_route_refresh_makes_ze_resend,
    test_routes_both_ways_then_withdrawn,
)

DAEMON = "frr"
