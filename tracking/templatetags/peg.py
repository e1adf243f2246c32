"""The weekly PEG-3 prompt decides for itself whether it is due, so a page adds it with
one include line (templates/tracking/_peg.html) and its view needs no change."""

from django import template

from accounts.services import profile_for
from tracking.forms import PegForm
from tracking.peg_data import peg_week_due

register = template.Library()


@register.simple_tag(takes_context=True)
def peg_prompt(context) -> dict | None:
    """This week's PEG-3 form, or None when it is answered, skipped or not yet possible."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return None
    week = peg_week_due(request.user, profile_for(request.user))
    if week is None:
        return None
    return {"week": week, "form": PegForm(auto_id="peg_%s")}


@register.filter
def peg_of(summary, week: int):
    """The PEG-3 answers of programme ``week`` in a PegSummary, or None."""
    return summary.by_week.get(week) if summary else None
