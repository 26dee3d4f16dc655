"""The exceptions graphdex raises on purpose; each carries one clear, user-facing sentence."""


class GraphdexError(Exception):
    """Base class: a failure the user can act on (the CLI prints it as one line and exits non-zero)."""


class ConfigError(GraphdexError):
    """A setting (CLI option, environment variable or tool argument) is invalid."""


class RepositoryError(GraphdexError):
    """The repository path is missing, not a directory, or not allowed."""


class StoreError(GraphdexError):
    """The graph server is unreachable, refused the credentials, or failed a query."""


class LocalServerError(GraphdexError):
    """The managed local graph server could not be started or reached."""
