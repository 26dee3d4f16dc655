"""The one seam between Neo4j and ArcadeDB: the few statements they spell differently.

Chosen once per connection from the server's agent string (ArcadeDB reports
"Neo4j/5.26.0 compatible (ArcadeDB …)"). Everything else in graphdex is plain Cypher both understand.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    name: str  # "neo4j" | "arcadedb"

    @property
    def is_arcadedb(self) -> bool:
        return self.name == "arcadedb"

    @property
    def parallel_writes(self) -> bool:
        """Do concurrent write transactions scale? Neo4j: yes (row locks). ArcadeDB: no; its page-level
        optimistic concurrency makes parallel writers of one type conflict and retry (measured: 2 writers
        took 2.7x the write time of 1 on the stdlib), so graphdex serialises its writes there."""
        return not self.is_arcadedb

    @property
    def supports_fulltext_index(self) -> bool:
        """Neo4j has `CREATE FULLTEXT INDEX` + `db.index.fulltext.queryNodes`; ArcadeDB's Bolt face has neither."""
        return not self.is_arcadedb

    def schema_statements(self) -> list[str]:
        """Constraints and indexes, created before any write; idempotent."""
        statements = [
            "CREATE CONSTRAINT graphdex_code_id IF NOT EXISTS FOR (n:Code) REQUIRE n.id IS UNIQUE",
            "CREATE CONSTRAINT graphdex_repository_id IF NOT EXISTS FOR (n:Repository) REQUIRE n.id IS UNIQUE",
            "CREATE INDEX graphdex_code_path IF NOT EXISTS FOR (n:Code) ON (n.path)",
            "CREATE INDEX graphdex_code_repo IF NOT EXISTS FOR (n:Code) ON (n.repo)",
            "CREATE INDEX graphdex_code_qualified_name IF NOT EXISTS FOR (n:Code) ON (n.qualified_name)",
            "CREATE INDEX graphdex_code_name IF NOT EXISTS FOR (n:Code) ON (n.name)",
        ]
        if self.supports_fulltext_index:
            statements.append(
                "CREATE FULLTEXT INDEX graphdex_code_text IF NOT EXISTS FOR (n:Code) "
                "ON EACH [n.name, n.qualified_name, n.docstring]"
            )
        return statements


def detect_dialect(agent: str) -> Dialect:
    return Dialect("arcadedb" if "arcadedb" in agent.lower() else "neo4j")
