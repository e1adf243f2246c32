from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.services import profile_for
from sharing.forms import RevokeForm, ShareLinkForm
from sharing.models import ShareLink
from sharing.services import (
    MAX_ACTIVE_LINKS,
    TooManyLinks,
    count_open,
    create_link,
    open_link,
    revoke_link,
)
from tracking import series
from tracking.report import report_context

# The raw token of a link just created waits here for the one page that shows it.
NEW_LINK_SESSION_KEY = "sharing-new-link"


def _private(response: HttpResponse) -> HttpResponse:
    """Headers of every answer under /shared/: not indexed, not stored, no referrer."""
    response["X-Robots-Tag"] = "noindex, nofollow, noarchive"
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def sharing(request: HttpRequest) -> HttpResponse:
    form = ShareLinkForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            link, token = create_link(
                user=request.user, days=form.cleaned_data["days"], name=form.cleaned_data["name"]
            )
        except TooManyLinks:
            form.add_error(
                None,
                f"You already have {MAX_ACTIVE_LINKS} links that work. "
                "Revoke one you no longer need, then create a new one.",
            )
        else:
            request.session[NEW_LINK_SESSION_KEY] = {"id": link.pk, "token": token}
            messages.success(request, "Link created. Copy it now: it is shown only this once.")
            return redirect("sharing")
    # Shown on the next page view and then forgotten: the session holds it for one redirect.
    new = request.session.pop(NEW_LINK_SESSION_KEY, None) if request.method == "GET" else None
    now = timezone.now()
    links = list(ShareLink.objects.filter(user=request.user))
    for link in links:
        link.state = link.status(now)
    context = {
        "form": form,
        "links": links,
        "new_link_id": new["id"] if new else None,
        "new_url": request.build_absolute_uri(reverse("shared", args=[new["token"]]))
        if new
        else None,
        "profile": profile_for(request.user),
    }
    status = 400 if request.method == "POST" else 200
    response = render(request, "sharing/sharing.html", context, status=status)
    if new:
        response["Cache-Control"] = "no-store"  # the only copy of the address
    return response


@login_required
@require_POST
def revoke(request: HttpRequest) -> HttpResponse:
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing was revoked: that link was not found.")
        return redirect("sharing")
    link = get_object_or_404(ShareLink, pk=form.cleaned_data["link"], user=request.user)
    revoke_link(link)
    messages.success(request, f"{link.name or 'The link'} is revoked: it stopped working at once.")
    return redirect("sharing")


@require_GET
def shared(request: HttpRequest, token: str) -> HttpResponse:
    now = timezone.now()
    decision = count_open(request.META.get("REMOTE_ADDR", ""), now)
    if not decision.allowed:
        response = render(request, "sharing/too_many.html", status=429)
        response["Retry-After"] = str(decision.retry_after)
        return _private(response)
    link = open_link(token, now)
    if link is None:
        # Unknown, expired and revoked all end here, after the same single lookup.
        return _private(render(request, "404.html", status=404))
    profile = profile_for(link.user)
    range_ = series.parse_range(request.GET.get("range"))
    context = report_context(link.user, profile, range_) | {"link": link}
    # Dates in the report read in the patient's own time zone, as on their own report.
    with timezone.override(profile.tzinfo):
        response = render(request, "sharing/shared.html", context)
    return _private(response)
