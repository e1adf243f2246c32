"""Text that users type: safe in a spreadsheet, no hidden characters, no huge echoes."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.contrib.auth import get_user_model

from lib.text import strip_invisible
from tests.conftest import make_session, session_post
from tracking.exports import csv_safe
from tracking.models import Session

pytestmark = pytest.mark.django_db
FORMULA_SIGNS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
SEPARATORS = (",", ";", "\t", "|", "\n", "\r")


def pieces(cell: str) -> list[str]:
    """The cell as a spreadsheet with any of the usual list separators would split it."""
    return [p.lstrip(' "') for p in re.split(r"[,;\t|\r\n]", cell)]


@pytest.mark.parametrize(
    "note",
    [
        'ok;=HYPERLINK("http://evil.example","click")',
        "fine\t=1+1",
        "a, +cmd|' /C calc'!A0",
        "line one\n@SUM(1,2)",
        'x; "=2*3"',
        "\uff1dHYPERLINK(1)",
        "  -2+3",
    ],
)
def test_no_piece_of_an_exported_note_can_run_as_a_formula(signed_in, user, note):
    make_session(user, note=note)

    text = b"".join(signed_in.get("/progress/export.csv").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))

    cell = rows[0]["note"]
    for piece in pieces(cell):
        assert not (piece.startswith(FORMULA_SIGNS) and not piece.startswith("'")), cell
    assert cell.replace("'", "") == note.replace("'", "")  # nothing else changed


def test_every_text_cell_of_the_csv_is_quoted(signed_in, user):
    make_session(user, note="plain")

    text = b"".join(signed_in.get("/progress/export.csv").streaming_content).decode()
    header, first = text.splitlines()[:2]

    assert all(name.startswith('"') for name in header.split(","))
    assert '"session"' in first and '"plain"' in first and ",5," in first  # numbers stay numbers


def test_ordinary_text_is_left_alone():
    assert csv_safe("stiff, then easier - much better") == "stiff, then easier - much better"
    assert csv_safe(7) == 7


def test_an_over_long_note_is_refused_briefly_and_not_echoed(signed_in):
    huge = "x" * 2_000_000

    response = signed_in.post("/today/log/", session_post(note=huge))

    assert response.status_code == 400  # the form again, with its message
    assert "keep it to 500 characters" in response.text
    assert len(response.content) < 100_000  # 2 MB in, a normal page out
    assert huge[:1000] not in response.text
    assert not Session.objects.exists()


def test_invisible_and_direction_changing_characters_are_stripped_from_notes(signed_in):
    note = "pain \u202egnipmarc\u202c eased\u200b after\u2066 rest\u2069\ufeff"

    signed_in.post("/today/log/", session_post(note=note))

    assert Session.objects.get().note == "pain gnipmarc eased after rest"


def test_invisible_characters_are_stripped_from_usernames(client):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "al\u200bice\u202e",
            "password1": "calm-Stretch-42",
            "password2": "calm-Stretch-42",
            "time_zone": "UTC",
        },
    )

    assert response.status_code == 302
    assert get_user_model().objects.filter(username="alice").exists()


def test_strip_invisible_keeps_every_visible_character():
    text = "Ça va? 痛み 3/10 — ok 🙂"
    assert strip_invisible(text) == text
