"""Answers, not just edges (issue 13): what a change breaks (impact), what a diff touches (changes), what is unused
(dead_code), how one symbol reaches another (paths), how the code base is layered (architecture).

Each module answers one question with a typed result from indexer/results.py; the faces (CLI, MCP server) call
them and print or return the result. They read the graph through lookup.py, a frontier of ids per query;
conventions.py is the table of each language's tests, entry points and protocol methods.
"""
