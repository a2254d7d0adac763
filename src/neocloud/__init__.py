"""neocloud: the open-source platform for running a GPU cloud."""

__version__ = "0.1.0"
