"""graphdex's indexer library: a repository -> a code graph in a Bolt database, in parallel."""

from . import runtime

__version__ = "0.1.0"

# Watch for an extension that turns the GIL back on from the first import of graphdex, so the cause is known.
runtime.watch_gil()
