"""The "Done today" list and the plan's cards of /today/, built in Python.

Every log POST answers with both, and a person who logs often has dozens of sessions in
the list: as a template loop (a time filter, a name and four numbers run through
localisation per session) it was the largest part of the POST's render, and the cards
(a dozen lookups, a URL and three filters per card) the next. The markup is the same,
whitespace included, and every text is escaped exactly as the template escaped it.
"""

from __future__ import annotations

import functools
import itertools
from datetime import datetime

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from lib.text import escape
from tracking.plan import TodayRows, instant_of, micros_of
from tracking.templatetags.plurals import noun

register = template.Library()


def done_row(local: datetime, name: str, before: int, after: int) -> str:
    """One session of the list (its local time, stretch and scores), with the whitespace
    the template loop put around it."""
    at = f"{local.hour:02d}:{local.minute:02d}"  # the template's time:"H:i"
    return (
        f"\n        <li>{at} · {escape(name)} · "
        f'<span aria-hidden="true">pain {before} → {after}</span>'
        f'<span class="visually-hidden">pain before {before}, after {after}</span></li>\n      '
    )


# Each item as made, by everything it shows: a log POST shows the whole day again with
# one session more. A pure function of its key (the instant, in microseconds, and the
# time zone it is shown in: nothing ambiguous about a DST fold), so nothing kept here is
# ever stale.
ROWS_KEPT_MAX = 4096
_rows_kept: dict[tuple, str] = {}


@register.filter
def done_rows(sessions, limit: int | None = None) -> SafeString:
    """Today's sessions as the list's items, newest first (the plan's order): a
    ``TodayRows``, read as its numbers, or any rows with the attributes of a
    ``TodaySession``. ``limit``: only the newest so many."""
    tz = timezone.get_current_timezone()  # as the template's time filter converts
    if isinstance(sessions, TodayRows):
        names = {pk: exercise.name for pk, exercise in sessions.exercises.items()}
        raw = sessions.raw if limit is None else sessions.raw[:limit]
        shown = [(micros, names[exercise], b, a) for micros, _, exercise, b, a in raw]
    else:
        shown = [
            (micros_of(s.performed_at), s.exercise.name, s.pain_before, s.pain_after)
            for s in itertools.islice(sessions, limit)
        ]
    rows = []
    for micros, name, before, after in shown:
        key = (micros, tz, name, before, after)
        row = _rows_kept.get(key)
        if row is None:
            if len(_rows_kept) >= ROWS_KEPT_MAX:
                _rows_kept.clear()
            local = instant_of(micros).astimezone(tz)
            row = _rows_kept[key] = done_row(local, name, before, after)
        rows.append(row)
    return mark_safe("".join(rows))


@functools.lru_cache(maxsize=256)
def _detail_url(slug: str, prefix: str, urlconf) -> str:
    """A stretch's page, remembered (as lib.paths remembers its links)."""
    return reverse("stretch-detail", args=[slug], urlconf=urlconf)


@receiver(setting_changed, dispatch_uid="easeback-detail-urls-forget")
def _forget(**kwargs) -> None:
    _detail_url.cache_clear()


def plan_card(entry) -> str:
    """One card of today's plan (a ``tracking.plan.ItemToday``), with the whitespace the
    template loop put around it."""
    item, exercise = entry.item, entry.exercise
    slug, name = escape(item.slug), escape(exercise.name)
    url = escape(_detail_url(exercise.slug, get_script_prefix(), get_urlconf()))
    done = ' <span class="badge badge-ok">done</span>' if entry.complete else ""
    span = ""
    if item.hold_min != item.hold_max:
        span = f' <span class="muted">(range {item.hold_min}-{item.hold_max} s)</span>'
    sides = ",".join(escape(side) for side in item.sides)
    return (
        f'\n  <article class="card plan-item" aria-labelledby="item-{slug}">\n'
        f'    <h3 id="item-{slug}"><a href="{url}">{name}</a>{done}</h3>\n'
        '    <ul class="plan-numbers">\n'
        f"      <li>Hold <strong>{item.hold_target} s</strong>{span}</li>\n"
        f"      <li><strong>{item.reps}</strong> {escape(noun(item.reps, 'rep'))} "
        f"{escape(entry.sides_text)}</li>\n"
        f"      <li>{escape(entry.frequency_text)}</li>\n"
        "    </ul>\n"
        f'    <p class="muted small" data-item-done>{escape(entry.done_text)}</p>\n'
        '    <p><button type="button" class="button button-secondary" hidden data-timer-start\n'
        f'        data-slug="{slug}" data-name="{name}"\n'
        f'        data-hold="{item.hold_target}" data-reps="{item.reps}"\n'
        f'        data-sides="{sides}">Start guided timer</button></p>\n'
        "  </article>\n"
    )


@register.filter
def plan_cards(entries) -> SafeString:
    """Today's plan as its cards, in the plan's order."""
    return mark_safe("".join(plan_card(entry) for entry in entries))
