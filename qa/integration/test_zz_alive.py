"""Runs last (file order): the main gateway survived everything above."""

import conftest
from test_gateway import healthy


def test_gateway_still_alive_and_same_process(gw, main_gateway_pids):
    assert main_gateway_pids, "no xo-gateway process found for XO_S3_ENDPOINT in XO_GATEWAY_NS at start"
    assert healthy(gw)
    now = conftest._gateway_pids()
    assert main_gateway_pids <= now, f"main xo-gateway restarted: {main_gateway_pids} -> {now}"
