"""Stage 6, the command line: one module per command, the parser map in :mod:`.main`.

May import every stage; nothing imports it.
"""

from .main import main

__all__ = ["main"]
