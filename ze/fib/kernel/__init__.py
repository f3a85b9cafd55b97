"""fib-kernel: best routes into a Linux routing table over batched rtnetlink, next hops as nexthop objects."""
