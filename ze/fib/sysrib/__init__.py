"""sysrib: the best route per prefix across protocols (connected, static, eBGP, iBGP) by admin distance."""
