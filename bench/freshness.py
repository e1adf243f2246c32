"""A newly logged session shows on the very next page load, whichever worker answers.

Both gunicorn workers are made to render /today/ and /progress/ first (concurrent
requests), so a per-worker cache would be warm in each; then one session is logged
through the real form, and every reload that follows must count it.
"""

from __future__ import annotations

import http.client
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlencode

DONE_TODAY = re.compile(r"data-done-count>(\d+)<")
RANGE_SESSIONS = re.compile(r"(\d+) sessions? on \d+ days?")
LOG_ACTION = "/today/log/"
RELOADS = 8


@dataclass
class Freshness:
    today_before: list[int]
    today_after: list[int]
    progress_before: list[int]
    progress_after: list[int]
    log_status: int

    @property
    def fresh(self) -> bool:
        return (
            self.log_status == 302
            and len(set(self.today_before)) == 1
            and len(set(self.progress_before)) == 1
            and set(self.today_after) == {self.today_before[0] + 1}
            and set(self.progress_after) == {self.progress_before[0] + 1}
        )


class _LogForm(HTMLParser):
    """The values the log form would submit as served: what a user taps "Save" on."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._inside = False
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._inside = a.get("action") == LOG_ACTION
        if not self._inside:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.values[a["name"]] = a.get("value", "on")
            elif kind != "submit":
                self.values[a["name"]] = a.get("value") or ""
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False
        elif tag == "select":
            self._select = None


def _request(port: int, method: str, path: str, cookie: str, body: str | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    text = response.read().decode()
    cookies = response.headers.get_all("Set-Cookie") or []
    conn.close()
    return response.status, text, cookies


def _counts(port: int, path: str, cookie: str, pattern: re.Pattern) -> list[int]:
    def one(_):
        status, text, _ = _request(port, "GET", path, cookie)
        match = pattern.search(text)
        if status != 200 or not match:
            raise RuntimeError(f"{path} answered {status} without the count the check reads")
        return int(match.group(1))

    with ThreadPoolExecutor(max_workers=RELOADS) as pool:
        return list(pool.map(one, range(RELOADS)))


def check_freshness(port: int, session_cookie: str, csrf_cookie_name: str) -> Freshness:
    today_before = _counts(port, "/today/", session_cookie, DONE_TODAY)
    progress_before = _counts(port, "/progress/", session_cookie, RANGE_SESSIONS)
    status, text, set_cookies = _request(port, "GET", "/today/", session_cookie)
    csrf_cookie = next(c.split(";")[0] for c in set_cookies if c.startswith(csrf_cookie_name))
    parser = _LogForm()
    parser.feed(text)
    form = {**parser.values, "pain_before": "3", "pain_after": "2"}
    cookie = f"{session_cookie}; {csrf_cookie}"
    log_status, _, _ = _request(port, "POST", "/today/log/", cookie, urlencode(form))
    return Freshness(
        today_before=today_before,
        today_after=_counts(port, "/today/", session_cookie, DONE_TODAY),
        progress_before=progress_before,
        progress_after=_counts(port, "/progress/", session_cookie, RANGE_SESSIONS),
        log_status=log_status,
    )
