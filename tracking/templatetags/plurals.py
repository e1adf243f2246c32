"""Numbers with their nouns in templates: ``{{ n|counted:"rep" }}`` gives "1 rep", "3 reps"."""

from django import template

from tracking.presentation import count

register = template.Library()


@register.filter
def counted(n: int, noun: str) -> str:
    """ "singular" or "singular,plural" (for nouns that do not just add an s)."""
    singular, _, plural = noun.partition(",")
    return count(int(n), singular, plural or None)


@register.filter
def noun(n: int, noun: str) -> str:
    """Only the noun, for templates that style the number apart: "rep" or "reps"."""
    return counted(n, noun).split(" ", 1)[1]
