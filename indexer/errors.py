"""Every exception graphdex raises on purpose: one hierarchy, each class one kind of failure with one clear sentence.

The faces map them by type: the CLI to an exit code (listed in `graphdex --help`), the MCP server to a tool error
whose text is the sentence. Anything else escaping the library is a bug.
"""

from __future__ import annotations

from collections.abc import Sequence


class GraphdexError(Exception):
    """Base class: a failure the user can act on."""

    exit_code = 1


class ConfigError(GraphdexError):
    """A setting, option or tool argument is invalid. `setting` names it, when there is one."""

    exit_code = 2

    def __init__(self, message: str, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


class NotFoundError(GraphdexError):
    """Something asked for by name does not exist: a symbol, a repository, a job."""

    exit_code = 2

    def __init__(self, message: str, what: str = "", name: str = "") -> None:
        super().__init__(message)
        self.what, self.name = what, name


class RepositoryError(GraphdexError):
    """The repository path is missing, not a directory, unreadable or not allowed, or its name is taken."""

    exit_code = 2


class RepositoryBusyError(GraphdexError):
    """Another index run holds this repository's lease (one run per repository at a time)."""

    exit_code = 4

    def __init__(self, message: str, repo: str, owner: str) -> None:
        super().__init__(message)
        self.repo, self.owner = repo, owner


class GitError(GraphdexError):
    """`git` is missing, the repository is not a git work tree, or a revision is unknown (detect_changes)."""

    exit_code = 2


class ToolMissingError(GraphdexError):
    """A program graphdex runs for an answer is not installed (Graphviz's `dot` for an SVG)."""


class StoreError(GraphdexError):
    """The graph server refused or failed a query."""


class GraphUnavailableError(StoreError):
    """The graph server cannot be reached, refused the credentials, or stopped answering."""

    def __init__(self, message: str, uri: str = "") -> None:
        super().__init__(message)
        self.uri = uri


class LocalServerError(GraphUnavailableError):
    """The managed local graph server could not be started, identified or reached."""


class EmbeddingError(GraphdexError):
    """Embeddings are disabled, or a query could not be embedded."""


class OfflineEncodingError(EmbeddingError):
    """A tokenizer encoding is not available offline."""


class WorkerCrashedError(GraphdexError):
    """Worker processes died while parsing, again after the pool was rebuilt."""

    def __init__(self, message: str, paths: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.paths = list(paths)


class ClusterError(GraphdexError):
    """The Dask scheduler cannot be reached, has no worker, or runs another graphdex than this run."""

    def __init__(self, message: str, address: str = "") -> None:
        super().__init__(message)
        self.address = address


# For `graphdex --help`: the exit codes, from the hierarchy above.
EXIT_CODES = {
    0: "success",
    1: "the run failed (graph server, embeddings, worker processes, Dask cluster)",
    2: "invalid input: an option, setting, path or name",
    3: "`graphdex db status`: the managed server is not running",
    4: "the repository is being indexed by another run (see --if-busy)",
    130: "interrupted (Ctrl-C or SIGTERM)",
}
