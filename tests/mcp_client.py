"""The MCP client side for tests: `python -m mcp_server` as a subprocess, driven by the SDK's stdio client through a
blocking portal (an event loop in a thread), so tests stay synchronous."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp import types
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

REPO_ROOT = Path(__file__).resolve().parents[1]


def server_env(home: Path, allowed: Path | None) -> dict[str, str]:
    # Only the runtime's location is kept: the free-threaded lane has no arcadedb-embedded package.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NEO4J_", "GRAPHDEX_")) or k == "GRAPHDEX_ARCADEDB_HOME"}
    env.update(GRAPHDEX_HOME=str(home), GRAPHDEX_WORKERS="2", PYTHONPATH=str(REPO_ROOT))
    if allowed is not None:
        env["GRAPHDEX_ALLOWED_ROOTS"] = str(allowed)
    return env


class Client:
    """A ClientSession to the server subprocess, called synchronously through the portal."""

    def __init__(self, portal: BlockingPortal, session: ClientSession, stderr: Path) -> None:
        self.portal, self.session, self.stderr = portal, session, stderr
        self.notifications: list[Any] = []  # everything the session passed to its message handler

    def call(self, name: str, args: dict[str, Any] | None = None, progress: Any = None) -> types.CallToolResult:
        async def go() -> types.CallToolResult:
            with anyio.fail_after(60):
                return await self.session.call_tool(name, args or {}, progress_callback=progress)

        return self.portal.call(go)

    def ok(self, tool: str, /, **args: Any) -> dict[str, Any]:
        result = self.call(tool, args)
        assert not result.is_error, f"{tool}({args}) failed: {text(result)}"
        assert result.structured_content is not None
        return result.structured_content

    def error(self, name: str, args: dict[str, Any]) -> str:
        result = self.call(name, args)
        assert result.is_error, f"{name}({args}) should fail, answered {result.structured_content}"
        return text(result)

    def resource(self, uri: str) -> str:
        result = self.portal.call(self.session.read_resource, uri)
        return result.contents[0].text  # type: ignore[union-attr]

    def wait(
        self, job_id: str, states: tuple[str, ...] = ("succeeded", "failed", "cancelled"), timeout: float = 60
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job = self.ok("index_status", job_id=job_id)["jobs"][0]
            if job["state"] in states:
                return job
            assert time.monotonic() < deadline, f"job still {job['state']} after {timeout}s: {job}"
            time.sleep(0.1)


def text(result: types.CallToolResult) -> str:
    return " ".join(c.text for c in result.content if isinstance(c, types.TextContent))


@contextmanager
def mcp_client(home: Path, allowed: Path | None, stderr: Path) -> Iterator[Client]:
    """A connected Client to a fresh server subprocess on `home`, closed at the end of the block."""
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_server"], env=server_env(home, allowed), cwd=str(REPO_ROOT)
    )
    holder: dict[str, Client] = {}

    async def handle(message: Any) -> None:
        holder["client"].notifications.append(message)

    @asynccontextmanager
    async def connect() -> AsyncIterator[ClientSession]:
        with stderr.open("w") as errlog:
            async with (
                stdio_client(params, errlog=errlog) as (read, write),
                ClientSession(read, write, message_handler=handle) as session,
            ):
                await session.initialize()
                yield session

    with start_blocking_portal() as portal, portal.wrap_async_context_manager(connect()) as session:
        holder["client"] = Client(portal, session, stderr)
        yield holder["client"]
