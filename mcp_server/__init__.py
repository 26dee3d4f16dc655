"""graphdex's MCP stdio server: a thin face over the indexer library."""
