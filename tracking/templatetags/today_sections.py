"""The parts of /today/ that a log POST sends back, built in Python.

Every log POST answers with the log form, the status line, "Done today" and the plan's
cards, and the page itself shows them too: these tags are their one home (today.html
calls each in its partial). As template nodes they were the largest part of the POST's
work after the write itself (an if, a lookup or an include per line, each resolved
through the context stack), and the POST is the request the app answers most slowly.

The markup is byte for byte what the templates printed, whitespace included
(tests/tracking/test_today_sections.py keeps those templates and compares), and every
value is escaped as ``{{ }}`` escaped it. What is still a template is rendered as one:
the pain guidance and the error summary (each only when shown), the CSRF input
(Django's own node) and the log form's three steps (a kept fragment).
"""

from __future__ import annotations

from django import template
from django.template.base import render_value_in_context
from django.template.defaulttags import CsrfTokenNode
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from lib.paths import path_of
from tracking.templatetags.fragments import fragment, render_part
from tracking.templatetags.plurals import counted
from tracking.templatetags.today_rows import done_rows, plan_cards

register = template.Library()

_CSRF = CsrfTokenNode()

# "Done today" lists this many of the day's sessions, newest first, and links to the rest:
# a log POST answers with the list, and it would otherwise grow with every session of the
# day (the plan counts them all; the count above the list says how many).
DONE_TODAY_SHOWN = 10


@register.simple_tag(takes_context=True)
def flow_counts(context) -> SafeString:
    """The day's counts in the status line (swapped on its own after queued sessions)."""
    swap = ' hx-swap-oob="true"' if context.get("oob_counts") else ""
    counts = conditional_escape(context["status"]["counts"])
    return mark_safe(f'<span id="flow-counts" data-flow-counts{swap}>{counts}</span>')


@register.simple_tag(takes_context=True)
def flow_status(context) -> SafeString:
    """The status line: what a save did, then the day's counts (read out when it changes)."""
    swap = ' hx-swap-oob="innerHTML"' if context.get("oob") else ""
    saved = ""
    if context.get("saved"):
        saved = f"<span data-saved>{conditional_escape(context['status']['saved'])}</span> "
    return mark_safe(
        '\n<p id="flow-status" class="flow-status" role="status" aria-live="polite" '
        f'tabindex="-1" data-flow-status{swap}>{saved}{flow_counts(context)}</p>\n'
    )


def _value(context, value) -> str:
    return render_value_in_context(value, context)


def hidden_inputs(context, form) -> str:
    """The form's hidden inputs (its client token, an edit's version), each only when the
    form has that field."""
    inputs = []
    for name in ("client_token", "version"):
        if name in form.fields:
            field = form[name]
            inputs.append(
                f'<input type="hidden" name="{_value(context, field.html_name)}" '
                f'value="{_value(context, field.value())}">'
            )
        else:
            inputs.append("")
    return f"\n{inputs[0]}\n{inputs[1]}\n"


@register.simple_tag(takes_context=True)
def hidden_fields(context) -> SafeString:
    return mark_safe(hidden_inputs(context, context["form"]))


@register.simple_tag(takes_context=True)
def log_form(context) -> SafeString:
    """The log form's card: the guidance after a save that called for it, the flare's cap,
    the errors, and the form (its three steps kept once per process when empty)."""
    plan, form = context["plan"], context["form"]
    guidance = ""
    if context.get("saved") and context.get("guidance"):
        shown = render_part(context, "tracking/_pain_guidance.html", s=context["guidance"])
        guidance = f"\n    {shown}\n  "
    cap = ""
    if plan.daily_cap_reached:
        cap = (
            f'<p class="message">That is today\'s '
            f"{_value(context, plan.prescription.daily_cap)} sessions for the flare. "
            "Rest now; the plan starts again tomorrow.</p>"
        )
    # The summary prints nothing but its file's last line break without errors.
    errors = render_part(context, "_form_errors.html") if form.errors else "\n"
    url = conditional_escape(path_of("log-session"))
    opened = " data-flow-open" if form.errors else ""
    steps = fragment(context, "tracking/today.html#log-steps", context.get("steps_key"))
    return mark_safe(
        "\n"
        '<section id="log-form" class="card" aria-labelledby="log-h">\n'
        '  <h2 id="log-h">Today\'s session</h2>\n'
        f"  {guidance}\n"
        f"  {cap}\n"
        '  <p class="muted small" data-flow-intro>Three steps: your pain now, the guided '
        "timer, then your pain after it. The timer fills in what you did.</p>\n"
        '  <p class="message message-warning" data-flow-waiting hidden>First answer the '
        "question above: whether the pain from your last session lasted more than "
        f"{_value(context, context.get('lasting_hours'))} hours.</p>\n"
        f"  {errors}\n"
        f'  <form method="post" action="{url}" hx-post="{url}" hx-target="#log-form" '
        'hx-swap="outerHTML" hx-disabled-elt="find button[type=submit]" '
        f'data-log-form{opened} autocomplete="off" novalidate>\n'
        f"    {_CSRF.render(context)}\n"
        f"    {hidden_inputs(context, form)}\n"
        "    \n    \n    \n"
        f"    {steps}\n"
        "  </form>\n"
        "</section>\n"
    )


@register.simple_tag(takes_context=True)
def done_today(context) -> SafeString:
    """ "Done today": the count, what is next, and today's sessions, newest first."""
    plan = context["plan"]
    sessions = plan.todays_sessions
    swap = ' hx-swap-oob="true"' if context.get("oob") else ""
    url = conditional_escape(path_of("today"))
    entry = plan.next_item
    if entry is not None:
        item = entry.item
        hint = (
            "\n    <p data-next-hint>Next: "
            f"<strong>{conditional_escape(entry.exercise.name)}</strong>, "
            f"{_value(context, item.hold_target)} s holds, "
            f"{conditional_escape(counted(item.reps, 'rep'))} "
            f"{conditional_escape(entry.sides_text)} ({conditional_escape(entry.done_text)}).</p>\n  "
        )
    else:
        hint = (
            "\n    <p data-next-hint>Everything planned for today is done. Well done: rest is "
            "part of the programme too.</p>\n  "
        )
    rows = ""
    n = len(sessions)
    if sessions:
        rows = f"\n    <ul>\n      {done_rows(sessions, DONE_TODAY_SHOWN)}\n    </ul>\n  "
        if n > DONE_TODAY_SHOWN:
            everything = conditional_escape(path_of("session-list"))
            rows += (
                f'<p class="muted small" data-done-more>The latest {DONE_TODAY_SHOWN} of '
                f'{n}. <a href="{everything}">All your sessions</a></p>\n  '
            )
    return mark_safe(
        "\n"
        f'<section id="done-today" class="card" aria-labelledby="done-h" '
        f'data-counts-url="{url}?part=done"{swap}>\n'
        f'  <h2 id="done-h">Done today: <span data-done-count>{n}</span> '
        f"session{'' if n == 1 else 's'}</h2>\n"
        f"  {hint}\n"
        f"  {rows}\n"
        "</section>\n"
    )


@register.simple_tag(takes_context=True)
def plan_items(context) -> SafeString:
    """Today's stretches, one card each."""
    swap = ' hx-swap-oob="true"' if context.get("oob") else ""
    return mark_safe(
        f'\n<div class="grid" id="plan-items"{swap}>\n{plan_cards(context["plan"].items)}\n</div>\n'
    )
