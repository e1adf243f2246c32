"""The clinician report's content, built once for /progress/report/ and for share links."""

from __future__ import annotations

from accounts.models import Profile
from stretches.models import Screening
from stretches.progression import programme_week
from tracking import charts, series
from tracking.models import Session
from tracking.peg_data import peg_summary_for


def report_context(user, profile: Profile, range_: series.Range) -> dict:
    """Verdict, chart, weeks, adherence, screenings with clearances, stop signals and PEG-3."""
    # Imported here: progress_views imports this module for its report view.
    from tracking.progress_views import trends_for

    result = trends_for(user, profile, range_)
    screenings = (
        Screening.objects.filter(user=user).select_related("clearance").order_by("-taken_at", "-id")
    )
    stop_sessions = (
        Session.objects.filter(user=user, has_stop_signal=True)
        .select_related("exercise")
        .order_by("-performed_at", "-id")
    )
    return {
        "profile": profile,
        "trends": result,
        "pain_chart": charts.pain_chart(result.days, key="report-pain"),
        "screenings": screenings,
        "stop_sessions": stop_sessions,
        "week": programme_week(result.start, result.today) if result.start else None,
        "ranges": list(series.Range),
        "peg": peg_summary_for(user, profile),
    }
