"""The content-agnostic hub (L2): topics, subscriptions, components."""
