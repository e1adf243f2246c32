"""The weekly PEG-3 prompt's form, and PEG-3 scores looked up by week in templates."""

from django import template

from tracking.forms import PegForm

register = template.Library()


@register.simple_tag
def peg_form() -> PegForm:
    """An empty PEG-3 form; the page's view says whether it is due (``peg_week``)."""
    return PegForm(auto_id="peg_%s")


@register.filter
def peg_of(summary, week: int):
    """The PEG-3 answers of programme ``week`` in a PegSummary, or None."""
    return summary.by_week.get(week) if summary else None
