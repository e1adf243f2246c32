"""Shared checks: the security headers every response carries and strict-CSP-safe HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser

ONE_YEAR = 365 * 24 * 3600
PRIVATE_REFERRER_POLICIES = {"no-referrer", "same-origin"}
NONCE = re.compile(r"'nonce-([A-Za-z0-9+/_=-]{16,})'")

# Directive -> the only sources it may list.
STRICT_CSP = {
    "default-src": {"'none'"},
    "style-src": {"'self'"},
    "img-src": {"'self'"},
    "font-src": {"'self'"},
    "connect-src": {"'self'"},
    "form-action": {"'self'"},
    "frame-ancestors": {"'none'"},
    "base-uri": {"'none'"},
    "object-src": {"'none'"},
}
ALLOWED_EXTRA_DIRECTIVES = {
    "script-src": None,
    "manifest-src": {"'self'"},
    "worker-src": {"'self'"},
}


def parse_csp(value: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in value.split(";"):
        tokens = part.split()
        if tokens:
            assert tokens[0] not in directives, f"directive {tokens[0]} given twice"
            directives[tokens[0]] = tokens[1:]
    return directives


def check_csp(value: str) -> str | None:
    """Assert the policy is the strict one; return its script nonce, if any."""
    lowered = value.lower()
    for loose in ("unsafe-inline", "unsafe-eval", "unsafe-hashes", "strict-dynamic", "*", "data:"):
        assert loose not in lowered, f"CSP allows {loose}: {value}"
    assert "http:" not in lowered and "https:" not in lowered, value
    directives = parse_csp(value)
    for name, sources in STRICT_CSP.items():
        assert set(directives.get(name, ())) == sources, f"{name} is {directives.get(name)}"
    for name in set(directives) - set(STRICT_CSP):
        assert name in ALLOWED_EXTRA_DIRECTIVES, f"unexpected CSP directive {name}"
    script = directives.get("script-src", [])
    nonces = [NONCE.fullmatch(token).group(1) for token in script if NONCE.fullmatch(token)]
    assert "'self'" in script
    assert set(script) - {"'self'"} == {f"'nonce-{n}'" for n in nonces}, script
    assert len(nonces) <= 1
    for name in ("manifest-src", "worker-src"):
        if name in directives:
            assert directives[name] == ["'self'"], f"{name} is {directives[name]}"
    return nonces[0] if nonces else None


def check_security_headers(response, *, https: bool = True) -> int:
    """Assert every security header on one response; return how many headers were checked."""
    headers = response.headers
    where = f"{response.request.get('PATH_INFO')} -> {response.status_code}"
    csp = headers.get("Content-Security-Policy")
    assert csp, f"no CSP on {where}"
    check_csp(csp)
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") in PRIVATE_REFERRER_POLICIES, where
    assert headers.get("Cross-Origin-Opener-Policy") == "same-origin", where
    assert headers.get("Cross-Origin-Resource-Policy") == "same-origin", where
    assert headers.get("X-Frame-Options") == "DENY", where
    checked = 6
    if https:
        hsts = headers.get("Strict-Transport-Security", "")
        parts = {p.strip().split("=")[0].lower(): p.strip() for p in hsts.split(";") if p.strip()}
        assert "max-age" in parts, f"no HSTS on {where}"
        assert int(parts["max-age"].split("=")[1]) >= ONE_YEAR, hsts
        assert "includesubdomains" in parts, hsts
        checked += 1
    return checked


class _InlineCodeFinder(HTMLParser):
    """Collects what a strict CSP would block: inline styles, handlers, un-nonced scripts."""

    def __init__(self):
        super().__init__()
        self.inline_scripts: list[str | None] = []  # the nonce of each inline <script>
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        data_only = attributes.get("type") in ("application/json", "application/ld+json")
        if tag == "script" and "src" not in attributes and not data_only:
            self.inline_scripts.append(attributes.get("nonce"))
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "link" and attributes.get("rel") == "stylesheet":
            href = attributes.get("href") or ""
            if href.startswith(("http:", "https:", "//")):
                self.problems.append(f"stylesheet from elsewhere: {href}")
        for name, value in attrs:
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>")
            if name.startswith("on"):
                self.problems.append(f"{name} handler on <{tag}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"javascript: URL on <{tag}>")
            if (
                name == "src"
                and tag in ("script", "img")
                and (value or "").startswith(("http:", "https:", "//"))
            ):
                self.problems.append(f"<{tag}> from elsewhere: {value}")


def check_html_obeys_csp(response) -> None:
    """Nothing in the page needs more than the policy allows: every inline script has the nonce."""
    if "text/html" not in response.headers.get("Content-Type", ""):
        return
    finder = _InlineCodeFinder()
    finder.feed(response.content.decode())
    where = response.request.get("PATH_INFO")
    assert not finder.problems, f"{where}: {finder.problems}"
    if finder.inline_scripts:
        nonce = check_csp(response.headers["Content-Security-Policy"])
        assert nonce is not None, f"{where} has an inline script but the CSP has no nonce"
        assert all(found == nonce for found in finder.inline_scripts), where
