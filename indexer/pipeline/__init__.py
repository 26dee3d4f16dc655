"""The indexing pipeline, one module per stage:

    discover.py   walk the tree, .gitignore, skip binaries/huge/odd files        -> Discovery
    plan.py       content hashes against the graph                              -> Plan
    parse/        extraction per language (a worker imports only this); stage.py runs it on the executor
    resolve.py    one pass over a symbol table                                  -> Resolution (edges)
    write.py      nodes while parsing, then the edge difference, stamps last
    embed.py      chunks of changed symbols, cache, batched requests
    run.py        sequences them and builds the Summary

Run an index with `indexer.pipeline.run.run(root, settings)`. This package imports nothing itself, so a parse
worker that imports `indexer.pipeline.parse` does not load the graph driver or the embedding client.
"""
