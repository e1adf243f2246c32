"""The clinician report's content, built once for /progress/report/ and for share links."""

from __future__ import annotations

from datetime import date

from django.db.models import CharField, OuterRef, StringAgg, Subquery, Value
from django.db.models.functions import Cast
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Profile
from lib.cache import cached_for_user
from stretches.models import ExaminationConfirmation, Screening
from stretches.progression import programme_week
from tracking import charts, series
from tracking.models import Session
from tracking.peg_data import peg_summary_for
from tracking.plan import catalogue_version

REPORT_SAFETY = "report-safety-v1"


def report_context(user, profile: Profile, range_: series.Range) -> dict:
    """Verdict, chart, weeks, adherence, screenings with clearances, stop signals and PEG-3."""
    # Imported here: progress_views imports this module for its report view.
    from tracking.progress_views import REPORT_PIECES, piece_memo, trends_for

    result = trends_for(user, profile, range_)
    with piece_memo(profile, REPORT_PIECES, result) as memo:
        pain_chart = charts.pain_chart(result.days, key="report-pain", memo=memo)
    return {
        "profile": profile,
        "trends": result,
        "pain_chart": pain_chart,
        "safety_sections": _safety_sections(user, profile),
        "week": programme_week(result.start, result.today) if result.start else None,
        "ranges": list(series.Range),
        "peg": peg_summary_for(user, profile),
    }


def _safety_sections(user, profile: Profile) -> str:
    """The stop signals and the screenings with their clearances, rendered.

    Cached under the history version: a stop signal (logged, added later or edited in),
    a screening, a clearance or an examination moves it on; a plain new session does not
    change these lists. The time zone they are shown in is in the key.
    """

    def render() -> str:
        # SPEC 1.4: every confirmation of a doctor's examination is shown too, all of a
        # screening's dates in the same query (a double-clicked confirmation keeps two).
        examined = (
            ExaminationConfirmation.objects.filter(screening=OuterRef("pk"))
            .order_by()
            .values("screening")
            .annotate(dates=StringAgg(Cast("examined_on", CharField()), Value(",")))
            .values("dates")[:1]
        )
        screenings = list(
            Screening.objects.filter(user=user)
            .select_related("clearance")
            .annotate(examined_dates=Subquery(examined))
            .order_by("-taken_at", "-id")
        )
        for screening in screenings:
            dates = (screening.examined_dates or "").split(",")
            # Sorted here: not every SQLite orders inside an aggregate.
            screening.examined_on = sorted(date.fromisoformat(day) for day in dates if day)
        stop_sessions = (
            Session.objects.filter(user=user, has_stop_signal=True)
            .select_related("exercise")
            .order_by("-performed_at", "-id")
        )
        # In the patient's time zone, as the rest of the report (the share page too).
        with timezone.override(profile.tzinfo):
            return render_to_string(
                "tracking/report.html#safety",
                {"screenings": screenings, "stop_sessions": stop_sessions},
            )

    return cached_for_user(
        profile,
        REPORT_SAFETY,
        render,
        extra=(str(profile.tzinfo), catalogue_version()),
        history=True,
    )
