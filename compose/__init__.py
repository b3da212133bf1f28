"""pycompose: run Compose stacks on one Linux host without a container engine."""

__version__ = "0.1.0"
