"""The package version, in one place: the runtime's, which tabdistill pins exactly."""

from tabdistill_runtime._version import __version__

__all__ = ["__version__"]
