"""mgdarts runtime: the PyTorch side of mgdarts. It computes; the TypeScript controller decides."""

__version__ = "0.1.0"
