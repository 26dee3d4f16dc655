"""graphdex's indexer library: a repository -> a code graph in a Bolt database, in parallel."""

__version__ = "0.1.0"
