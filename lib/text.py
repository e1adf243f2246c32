"""Free text typed by users: invisible characters out, over-long input refused quietly.

Bidirectional overrides (U+202A-U+202E, U+2066-U+2069 and the marks) can make a note or a
name read differently from what it holds ("txt.exe" shown as "exe.txt"), and zero-width
characters make two names that look the same differ. Neither has a use in a pain note or
a username, so both are removed before validation.
"""

from __future__ import annotations

import html
import re

from django import forms

INVISIBLE = re.compile(
    "["
    "\u061c"  # Arabic letter mark
    "\u180e"  # Mongolian vowel separator
    "\u200b-\u200f"  # zero-width space, non-joiner, joiner; left-to-right and right-to-left marks
    "\u202a-\u202e"  # embeddings and overrides
    "\u2060-\u2064"  # word joiner and invisible operators
    "\u2066-\u2069"  # isolates
    "\ufeff"  # zero-width no-break space (byte order mark)
    "]"
)


def strip_invisible(text: str) -> str:
    """The text without bidirectional controls and zero-width characters."""
    return INVISIBLE.sub("", text)


class PlainTextField(forms.CharField):
    """A CharField that strips invisible characters and never echoes over-long input.

    A re-rendered form shows what was posted; for a 2 MB note that would send 2 MB back.
    Input past max_length is refused with a short message and the field comes back empty.
    """

    def __init__(self, *, max_length: int, **kwargs):
        super().__init__(max_length=max_length, **kwargs)
        self.error_messages["max_length"] = (
            f"This is too long: keep it to {max_length} characters. It was not saved."
        )

    def to_python(self, value):
        value = super().to_python(value)
        return strip_invisible(value) if isinstance(value, str) else value

    def bound_data(self, data, initial):
        if isinstance(data, str) and self.max_length and len(data) > self.max_length:
            return ""
        return super().bound_data(data, initial)


def escape(text) -> str:
    """What ``{{ text }}`` prints with autoescaping: Django's ``escape`` (the standard
    library's ``html.escape`` of ``str(text)``) without its lazy-string wrapper, for markup
    built in Python a few thousand times per page."""
    return html.escape(str(text))
