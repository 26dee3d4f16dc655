"""`python -m mcp_server`: the graphdex MCP stdio server."""

from mcp_server.server import main

if __name__ == "__main__":
    main()
