"""The MCP client side for tests: `python -m mcp_server` as a subprocess, driven by the SDK's stdio client through a
blocking portal (an event loop in a thread), so tests stay synchronous. `recorded` wraps the stdio streams to keep
the wire traffic in order, both ways, with arrival times."""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp import types
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.message import SessionMessage

REPO_ROOT = Path(__file__).resolve().parents[1]


def server_env(home: Path, allowed: Path | None) -> dict[str, str]:
    # Only the runtime's location is kept: the free-threaded lane has no arcadedb-embedded package.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NEO4J_", "GRAPHDEX_")) or k == "GRAPHDEX_ARCADEDB_HOME"}
    env.update(GRAPHDEX_HOME=str(home), GRAPHDEX_WORKERS="2", PYTHONPATH=str(REPO_ROOT))
    if allowed is not None:
        env["GRAPHDEX_ALLOWED_ROOTS"] = str(allowed)
    return env


Wire = list[tuple[float, str, dict[str, Any]]]  # (monotonic time, "in" or "out", the JSON-RPC message)


@asynccontextmanager
async def recorded(
    read: ObjectReceiveStream[SessionMessage | Exception], write: ObjectSendStream[SessionMessage], wire: Wire
) -> AsyncIterator[tuple[ObjectReceiveStream[SessionMessage | Exception], ObjectSendStream[SessionMessage]]]:
    """Streams that pass every message through unchanged, appending each to `wire` as it passes: what the server
    wrote to stdout ("in") in the order it wrote it, and what the client sent ("out")."""
    to_session, session_reads = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    session_writes, to_server = anyio.create_memory_object_stream[SessionMessage](0)

    def dump(item: SessionMessage | Exception) -> dict[str, Any]:
        if isinstance(item, Exception):
            return {"exception": repr(item)}
        return item.message.model_dump(by_alias=True, mode="json", exclude_none=True)

    async def inbound() -> None:
        async with to_session:
            async for item in read:
                wire.append((time.monotonic(), "in", dump(item)))
                await to_session.send(item)

    async def outbound() -> None:
        async with to_server:
            async for item in to_server:
                wire.append((time.monotonic(), "out", dump(item)))
                await write.send(item)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(inbound)
        tasks.start_soon(outbound)
        try:
            yield session_reads, session_writes
        finally:
            tasks.cancel_scope.cancel()


class Client:
    """A ClientSession to the server subprocess, called synchronously through the portal."""

    def __init__(self, portal: BlockingPortal, session: ClientSession, stderr: Path) -> None:
        self.portal, self.session, self.stderr = portal, session, stderr
        self.notifications: list[Any] = []  # everything the session passed to its message handler
        self.arrivals: list[tuple[float, Any]] = []  # the same, with the monotonic time each arrived

    def call(
        self, name: str, args: dict[str, Any] | None = None, progress: Any = None, timeout: float = 60
    ) -> types.CallToolResult:
        return self.portal.call(self._call, name, args, progress, timeout)

    def start_call(
        self, name: str, args: dict[str, Any] | None = None, progress: Any = None, timeout: float = 180
    ) -> Future[types.CallToolResult]:
        """The call as a task in the portal: `.cancel()` the future to cancel the request (the SDK then sends
        notifications/cancelled)."""
        return self.portal.start_task_soon(self._call, name, args, progress, timeout)

    async def _call(
        self, name: str, args: dict[str, Any] | None, progress: Any, timeout: float
    ) -> types.CallToolResult:
        with anyio.fail_after(timeout):
            return await self.session.call_tool(name, args or {}, progress_callback=progress)

    def subscribe(self, uri: str) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecated at 2026-07-28; this session speaks 2025-11-25
            self.portal.call(self.session.subscribe_resource, uri)

    def unsubscribe(self, uri: str) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.portal.call(self.session.unsubscribe_resource, uri)

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


def server_params(home: Path, allowed: Path | None) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_server"], env=server_env(home, allowed), cwd=str(REPO_ROOT)
    )


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `condition` (a test-side check, every 50 ms) until it is truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout}s"
        time.sleep(0.05)
    return value


@contextmanager
def mcp_client(home: Path, allowed: Path | None, stderr: Path, wire: Wire | None = None) -> Iterator[Client]:
    """A connected Client to a fresh server subprocess on `home`, closed at the end of the block. With `wire`, the
    traffic is recorded into it (see `recorded`)."""
    params = server_params(home, allowed)
    holder: dict[str, Client] = {}

    async def handle(message: Any) -> None:
        holder["client"].notifications.append(message)
        holder["client"].arrivals.append((time.monotonic(), message))

    @asynccontextmanager
    async def connect() -> AsyncIterator[ClientSession]:
        with stderr.open("w") as errlog:
            async with AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(stdio_client(params, errlog=errlog))
                if wire is not None:
                    read, write = await stack.enter_async_context(recorded(read, write, wire))
                session = await stack.enter_async_context(ClientSession(read, write, message_handler=handle))
                await session.initialize()
                yield session

    with start_blocking_portal() as portal, portal.wrap_async_context_manager(connect()) as session:
        holder["client"] = Client(portal, session, stderr)
        yield holder["client"]
