"""The composition root: the one place that picks concrete adapters from settings and wires them."""
