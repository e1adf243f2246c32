"""The "Done today" list of /today/, built in Python.

Every log POST answers with this list, and a person who logs often has dozens of sessions
in it: as a template loop (a time filter, a name and four numbers run through
localisation per session) it was the largest part of the POST's render. The markup is
the same, whitespace included, and the name is escaped exactly as the template escaped it.
"""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from lib.text import escape

register = template.Library()


def done_row(session, tz) -> str:
    """One session of the list, with the whitespace the template loop put around it."""
    local = session.performed_at.astimezone(tz)
    at = f"{local.hour:02d}:{local.minute:02d}"  # the template's time:"H:i"
    before, after = session.pain_before, session.pain_after
    return (
        f"\n        <li>{at} · {escape(session.exercise.name)} · "
        f'<span aria-hidden="true">pain {before} → {after}</span>'
        f'<span class="visually-hidden">pain before {before}, after {after}</span></li>\n      '
    )


@register.filter
def done_rows(sessions) -> SafeString:
    """Today's sessions as the list's items, newest first (the plan's order)."""
    tz = timezone.get_current_timezone()  # as the template's time filter converts
    return mark_safe("".join(done_row(session, tz) for session in sessions))
