from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.services import profile_for
from tracking.forms import PegForm
from tracking.peg import peg_score
from tracking.peg_data import peg_week_due
from tracking.services import save_peg


@login_required
@require_POST
def peg(request: HttpRequest) -> HttpResponse:
    """This week's PEG-3 answers, or "not this week"; either way asked again next week."""
    profile = profile_for(request.user)
    week = peg_week_due(request.user, profile)
    if week is None:
        messages.info(request, "This week's three questions are already done.")
        return redirect("today")
    if request.POST.get("skip"):
        save_peg(user=request.user, week=week, pain=None, enjoyment=None, activity=None)
        messages.success(request, "Skipped for this week. They will be asked again next week.")
        return redirect("today")
    form = PegForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            "Your weekly answers were not saved: choose a number from 0 to 10 for each of "
            "the three questions.",
        )
        return redirect("today")
    peg = save_peg(user=request.user, week=week, **form.cleaned_data)
    score = peg_score(peg.pain, peg.enjoyment, peg.activity)
    messages.success(request, f"Thanks: your week {week} score is {score} out of 10.")
    return redirect("today")
