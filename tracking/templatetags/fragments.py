"""``{% fragment "tracking/_session_fields.html#pain-before" form.static_key %}``.

Renders a template (or a partial) with the current context, like ``{% include %}``. When
the key is not None, the HTML is kept in this process's memory under the template name
and the key, and reused for every later render with the same key: for parts that are the
same HTML for everyone in the same state, such as the radio tiles of an empty pain scale
(a few dozen template nodes each, on every /today/).

The key must name everything the part shows. A kept part holds nothing per visitor or per
response: a part that made a per-response value while rendering (a CSRF token, a client
token, the time: lib.page_cache counts them in any view) or shows the CSP nonce is never
kept. Nothing in it needs revoking,
so a per-process memory is safe here; a bound form (the user's own input) has no key.
"""

from django import template
from django.middleware.csp import get_nonce

from lib.page_cache import counting_made

register = template.Library()

MAX_ENTRIES = 512
_kept: dict[tuple[str, str], str] = {}


def render_part(context, name: str, **values) -> str:
    """``{% include name with values %}``: the template (or partial) with the current
    context and ``values`` on top."""
    part = context.template.engine.get_template(name)
    with context.push(**values):
        return part.render(context)


def _holds_the_nonce(context, html: str) -> bool:
    request = context.get("request")
    nonce = get_nonce(request) if request is not None else None
    return bool(nonce) and str(nonce) in html


@register.simple_tag(takes_context=True)
def fragment(context, name: str, key) -> str:
    if key is None:
        return render_part(context, name)
    found = _kept.get((name, key))
    if found is None:
        with counting_made() as made:
            found = render_part(context, name)
        if made[0] or _holds_the_nonce(context, found):
            return found  # something per response in it: never kept
        if len(_kept) >= MAX_ENTRIES:
            _kept.clear()
        _kept[name, key] = found
    return found
