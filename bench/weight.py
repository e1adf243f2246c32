"""First-load weight of a page: the HTML plus everything it pulls in, as transferred.

Requests ask for gzip and brotli like a browser; bytes are counted as they come off
the socket (body not decoded) plus the status line and headers. Scripts are followed
through their ``import`` statements and stylesheets through ``url()`` and
``@import``, so a module the timer loads later still counts.
"""

from __future__ import annotations

import http.client
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

ACCEPT_ENCODING = "gzip, br"
JS_IMPORT = re.compile(
    r"""(?:\bimport\s*(?:[\w*{}\s,]+from\s*)?|\bexport\s*[\w*{}\s,]+from\s*|\bimport\s*\()\s*["']([^"']+)["']"""
)
CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)|@import\s+["']([^"']+)["']""")


@dataclass
class Resource:
    url: str
    kind: str
    status: int = 0
    encoding: str = ""
    transferred: int = 0
    decoded: int = 0
    same_origin: bool = True


@dataclass
class PageWeight:
    resources: list[Resource] = field(default_factory=list)
    blocking_scripts: list[str] = field(default_factory=list)
    inline_scripts_without_nonce: int = 0
    timer_script: str | None = None
    timer_button: bool = False

    @property
    def total(self) -> int:
        return sum(r.transferred for r in self.resources)

    @property
    def foreign(self) -> list[str]:
        return [r.url for r in self.resources if not r.same_origin]


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self.blocking: list[str] = []
        self.inline_without_nonce = 0
        self.timer_button = False
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "head":
            self._in_head = True
        if tag == "script":
            if a.get("src"):
                self.found.append((a["src"], "script"))
                deferred = "defer" in a or "async" in a or a.get("type") == "module"
                if self._in_head and not deferred:
                    self.blocking.append(a["src"])
            elif "nonce" not in a and a.get("type") not in ("application/json", "importmap"):
                self.inline_without_nonce += 1
        elif tag == "link" and a.get("href"):
            rel = (a.get("rel") or "").lower()
            if any(
                r in rel for r in ("stylesheet", "icon", "modulepreload", "preload", "manifest")
            ):
                self.found.append((a["href"], rel))
        elif tag in ("img", "source", "audio", "video") and a.get("src"):
            self.found.append((a["src"], tag))
        if "data-timer-start" in a:
            self.timer_button = True

    def handle_endtag(self, tag):
        if tag == "head":
            self._in_head = False


def _get(host: str, port: int, path: str, cookie: str | None) -> tuple[int, dict, bytes, int]:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    headers = {"Accept-Encoding": ACCEPT_ENCODING, "Accept": "*/*"}
    if cookie:
        headers["Cookie"] = cookie
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    head = len(f"HTTP/1.1 {response.status} {response.reason}\r\n") + sum(
        len(f"{k}: {v}\r\n") for k, v in response.getheaders()
    )
    conn.close()
    return response.status, dict(response.getheaders()), body, head + 2 + len(body)


def _decoded(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        import gzip

        return gzip.decompress(body)
    if encoding == "br":
        import brotli  # only present when whitenoise can serve .br files

        return brotli.decompress(body)
    return body


def page_weight(base: str, path: str, cookie: str) -> PageWeight:
    origin = urlsplit(base)
    host, port = origin.hostname, origin.port
    result = PageWeight()
    queue: list[tuple[str, str]] = [(urljoin(base, path), "document")]
    seen: set[str] = set()
    while queue:
        url, kind = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        parts = urlsplit(url)
        resource = Resource(url=url, kind=kind, same_origin=parts.netloc == origin.netloc)
        result.resources.append(resource)
        if not resource.same_origin:
            continue  # counted as foreign; never fetched from here
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        status, headers, body, transferred = _get(
            host, port, target, cookie if kind == "document" else None
        )
        resource.status, resource.transferred = status, transferred
        resource.encoding = headers.get("Content-Encoding", "")
        text = _decoded(body, resource.encoding).decode("utf-8", "replace")
        resource.decoded = len(text.encode())
        if kind == "document":
            links = _Links()
            links.feed(text)
            result.blocking_scripts = links.blocking
            result.inline_scripts_without_nonce = links.inline_without_nonce
            result.timer_button = links.timer_button
            queue += [(urljoin(url, href), rel) for href, rel in links.found]
        elif url.split("?")[0].endswith(".js"):
            queue += [(urljoin(url, m), "script") for m in JS_IMPORT.findall(text)]
            if "timer" in parts.path.rsplit("/", 1)[-1]:
                result.timer_script = parts.path
        elif url.split("?")[0].endswith(".css"):
            for found, imported in CSS_URL.findall(text):
                ref = found or imported
                if not ref.startswith("data:"):
                    queue.append((urljoin(url, ref), "css-url"))
    return result
