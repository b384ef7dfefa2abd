"""The runtime's version: always the version of the tabdistill it comes with."""

__version__ = "0.1.0"
