"""The FIB features: sysrib (the best route per prefix across protocols) and fib-kernel (into Linux)."""
