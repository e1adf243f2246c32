"""The rows of /sessions/, built in Python.

Twenty sessions a page, each a dozen variable lookups, two URLs, a time and a few numbers
run through localisation: about half the page's time as a template loop. The markup is
the same, and every text is escaped exactly as the template escaped it.
"""

from __future__ import annotations

from itertools import groupby

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.dateformat import time_format
from django.utils.safestring import SafeString, mark_safe

from lib.text import escape
from tracking.presentation import count

register = template.Library()

_PK = 2_147_483_647  # stands in for each session's id in the two URLs, reversed once


def _row(session, edit: str, delete: str) -> str:
    at = time_format(timezone.localtime(session.performed_at), "H:i")
    aim = f" (aim {session.hold_seconds_target} s)" if session.hold_seconds_target else ""
    extra = ""
    if session.has_stop_signal:
        labels = escape(", ".join(session.stop_signal_labels()))
        extra += f'<br><span class="badge badge-danger">Stop signal: {labels}</span>'
    if session.note:
        extra += f'<br><span class="small">{escape(session.note)}</span>'
    pk = str(session.pk)
    return (
        '<div class="session-row"><div>'
        f"<strong>{at}</strong> · {escape(session.exercise.name)}<br>"
        f'<span class="muted small">{escape(session.get_sides_display())} · '
        f"{escape(count(session.reps_per_side, 'rep'))} · hold {session.hold_seconds} s"
        f"{aim}</span>{extra}</div><div>"
        f'<p class="pain-line"><span class="visually-hidden">Pain before '
        f"{session.pain_before}, after {session.pain_after}</span>"
        '<span class="muted small" aria-hidden="true">Pain </span>'
        f'<span class="pain-pair" aria-hidden="true">{session.pain_before} → '
        f"{session.pain_after}</span></p>"
        f'<p class="session-actions"><a href="{edit.replace(str(_PK), pk)}">Edit'
        f'<span class="visually-hidden"> session at {at}</span></a> '
        f'<a class="action-danger" href="{delete.replace(str(_PK), pk)}">Delete'
        f'<span class="visually-hidden"> session at {at}</span></a></p></div></div>'
    )


@register.filter
def session_days(sessions) -> SafeString:
    """One section per local day (``session.local_day``, set by the view), newest first."""
    edit = reverse("session-edit", args=[_PK])
    delete = reverse("session-delete", args=[_PK])
    sections = []
    for number, (day, rows) in enumerate(groupby(sessions, key=lambda s: s.local_day), 1):
        body = "\n".join(_row(session, edit, delete) for session in rows)
        sections.append(
            f'<section class="day-group" aria-labelledby="day-{number}">'
            f'<h2 id="day-{number}">{date_format(day, "l j F Y")}</h2>\n{body}\n</section>'
        )
    return mark_safe("\n".join(sections))
