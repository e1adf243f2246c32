from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models import Case, Count, F, IntegerField, Max, Sum, Value, When, Window
from django.db.models.functions import Greatest, RowNumber, TruncDate
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.views.decorators.http import require_GET

from accounts.models import Profile
from accounts.services import profile_for
from lib.cache import CACHE_SECONDS, cached_for_user, cached_get, prefetch, user_key
from lib.page_cache import one_of, page_cache
from stretches.progression import LYING_KNEE_TO_CHEST, MORNING, programme_week
from tracking import charts, exports, series, trends
from tracking.day_queries import day_scores
from tracking.models import Session, WeeklyCheckin
from tracking.peg_data import peg_progress_context
from tracking.plan import catalogue_version, local_midnight
from tracking.report import report_context
from tracking.templatetags.chart_markup import day_rows
from tracking.today import weekly_checkin_due

DAYS_BEFORE = "days-before-v1"
CHECKINS = "checkins-v1"
PROGRESS_PIECES = "progress-pieces-v1"
REPORT_PIECES = "report-pieces-v1"


def daily_numbers(user, profile: Profile) -> tuple[list[series.DayStats], dict[date, int]]:
    """Per local day: sums, maxima and counts, and the morning score.

    The days before today come from the history cache (``_days_before``, one query when
    it misses); today's day is summed from today's sessions, read every time.
    """
    tz = profile.tzinfo
    today = profile.local_today()
    midnight = local_midnight(today, tz)
    stats, morning = cached_for_user(
        profile,
        DAYS_BEFORE,
        lambda: _days_before(user, tz, midnight),
        extra=(str(tz),),
        history=True,
        today=today,
    )
    todays = day_scores(user.pk, midnight, local_midnight(today + timedelta(days=1), tz))
    if todays:
        stats.append(
            series.DayStats(
                today,
                len(todays),
                sum(before for _, before, _ in todays),
                sum(after for _, _, after in todays),
                max(before for _, before, _ in todays),
                max(max(before, after) for _, before, after in todays),
                sum(1 for slug, _, _ in todays if slug in LYING_KNEE_TO_CHEST),
            )
        )
        # The morning-in-bed routine first, else the day's first session (as below).
        first = min(todays, key=lambda row: row[0] != MORNING)
        morning[today] = first[1]
    return stats, morning


def _days_before(user, tz: ZoneInfo, midnight) -> tuple[list[series.DayStats], dict[date, int]]:
    """Per local day before ``midnight``: sums, maxima and counts, and the morning score,
    in one query.

    Window functions partitioned by the local day do the aggregation; ranking each
    day's sessions (the morning-in-bed routine first, then by time) and keeping rank 1
    leaves one row per day, so the rows grow with days, never with sessions.
    """
    day = TruncDate("performed_at", tzinfo=tz)
    morning_first = Case(
        When(exercise__slug=MORNING, then=Value(0)), default=Value(1), output_field=IntegerField()
    )

    is_main = Case(
        When(exercise__slug__in=LYING_KNEE_TO_CHEST, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )

    def per_day(expression):
        return Window(expression, partition_by=[day])

    rows = (
        Session.objects.filter(user=user, performed_at__lt=midnight)
        .annotate(
            day=day,
            rank=Window(
                RowNumber(),
                partition_by=[day],
                order_by=[morning_first.asc(), F("performed_at").asc(), F("id").asc()],
            ),
            day_sessions=per_day(Count("id")),
            day_before_total=per_day(Sum("pain_before")),
            day_after_total=per_day(Sum("pain_after")),
            day_before_max=per_day(Max("pain_before")),
            day_worst=per_day(Max(Greatest("pain_before", "pain_after"))),
            day_main=per_day(Sum(is_main)),
        )
        .filter(rank=1)
        .order_by("day")
        .values_list(
            "day",
            "day_sessions",
            "day_before_total",
            "day_after_total",
            "day_before_max",
            "day_worst",
            "day_main",
            "pain_before",
        )
    )
    stats, morning = [], {}
    for row_day, sessions, before_total, after_total, before_max, worst, main, first in rows:
        stats.append(
            series.DayStats(row_day, sessions, before_total, after_total, before_max, worst, main)
        )
        morning[row_day] = first
    return stats, morning


def checkin_answers(user) -> dict[int, tuple[str, str]]:
    rows = WeeklyCheckin.objects.filter(user=user).values_list("week", "movement", "sleep")
    return {week: (movement, sleep) for week, movement, sleep in rows}


def trends_for(user, profile: Profile, range_: series.Range) -> trends.Trends:
    stats, morning = daily_numbers(user, profile)
    # Check-ins are no sessions: every write to them moves the history version on.
    checkins = cached_for_user(profile, CHECKINS, lambda: checkin_answers(user), history=True)
    return trends.build_trends(
        stats=stats,
        morning=morning,
        checkins=checkins,
        programme_start=profile.programme_start,
        today=profile.local_today(),
        phase=profile.phase_enum,
        range_=range_,
    )


def _range_links(current: series.Range) -> list[dict]:
    return [
        {"range": r, "label": r.label, "current": r is current, "query": f"?range={r.value}"}
        for r in series.Range
    ]


def _pieces_key(profile: Profile, name: str, range_: series.Range, today: date) -> str:
    return user_key(profile, name, extra=(range_.value,), history=True, today=today)


def prefetch_history(profile: Profile, range_: series.Range, *, report: bool) -> None:
    """What the first view of /progress/ or the report after a logged session reads from
    the shared cache under the history version, asked for in one round trip (each call
    below still reads its own entry, from there)."""
    from tracking.peg_data import PEG_SUMMARY
    from tracking.report import REPORT_SAFETY

    today = profile.local_today()
    tz = str(profile.tzinfo)
    keys = [
        user_key(profile, DAYS_BEFORE, extra=(tz,), history=True, today=today),
        user_key(profile, CHECKINS, history=True, today=today),
        user_key(profile, PEG_SUMMARY, history=True, today=today),
        _pieces_key(profile, REPORT_PIECES if report else PROGRESS_PIECES, range_, today),
    ]
    if report:
        keys.append(
            user_key(
                profile, REPORT_SAFETY, extra=(tz, catalogue_version()), history=True, today=today
            )
        )
    elif profile.programme_start is not None:
        week = programme_week(profile.programme_start, today)
        # tracking.today.weekly_checkin_due's entry, asked from week 2.
        keys.append(user_key(profile, "checkin-done-v1", extra=(week,), history=True, today=today))
    prefetch(keys)


@contextmanager
def piece_memo(profile: Profile, name: str, result: trends.Trends) -> Iterator[charts.PieceMemo]:
    """The chart points and table rows of the days before today, as the last view of the
    same range drew them (``charts.PieceMemo``), kept again if this view drew new ones.

    After a session is logged only today's pieces are drawn anew. Each piece is a pure
    function of its key, so the entry cannot be stale; it lives under the history version
    (a change to the days before today starts a fresh one) and the local day.
    """
    key = _pieces_key(profile, name, result.range, result.today)
    memo = charts.PieceMemo(result.today, cached_get(key) or {})
    yield memo
    if memo.added:
        cache.set(key, memo.pieces, CACHE_SECONDS)


def progress_parts(profile: Profile, range_: series.Range) -> tuple[trends.Trends, str]:
    """The trends and the rendered charts fragment.

    Not cached on its own: the page cache (``@page_cache`` below) keeps the whole page
    and the htmx fragment under the same data version, so a copy here would only be
    written (pickled and sent to the cache) on every first view, never read. The points
    and rows of the days before today are (``piece_memo``).
    """
    result = trends_for(profile.user, profile, range_)
    with piece_memo(profile, PROGRESS_PIECES, result) as memo:
        context = {
            "trends": result,
            "range_links": _range_links(range_),
            "pain_chart": charts.pain_chart(result.days, memo=memo),
            "morning_chart": charts.morning_chart(result.days, memo=memo),
            "day_rows_html": day_rows(result.days, result.words.rolling, memo),
        }
    return result, render_to_string("tracking/progress.html#charts", context)


RANGE_QUERY = {"range": one_of(*series.Range)}


@login_required
@require_GET
@page_cache("progress", query=RANGE_QUERY)
def progress(request: HttpRequest) -> HttpResponse:
    profile = profile_for(request.user)
    range_ = series.parse_range(request.GET.get("range"))
    prefetch_history(profile, range_, report=False)
    result, charts_html = progress_parts(profile, range_)
    if request.htmx and not request.htmx.history_restore_request:
        response = HttpResponse(charts_html)
    else:
        week = result.current_week
        due = weekly_checkin_due(request.user, week) if week and profile.programme_start else None
        context = {
            "profile": profile,
            "trends": result,
            "charts_html": charts_html,
            "checkin_week": due,
            **peg_progress_context(request.user, profile),
        }
        response = render(request, "tracking/progress.html", context)
    # The same URL answers with a fragment for htmx and a page otherwise.
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
@page_cache("report", query=RANGE_QUERY, vary_on=(catalogue_version,))
def report(request: HttpRequest) -> HttpResponse:
    profile = profile_for(request.user)
    range_ = series.parse_range(request.GET.get("range"))
    prefetch_history(profile, range_, report=True)
    context = report_context(request.user, profile, range_)
    return render(request, "tracking/report.html", context)


def _download(
    request: HttpRequest, chunks, *, content_type: str, extension: str
) -> StreamingHttpResponse:
    profile = profile_for(request.user)
    name = f"easeback-{profile.local_today():%Y-%m-%d}.{extension}"
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    # Health records: never kept in a shared or browser cache.
    add_never_cache_headers(response)
    response["Cache-Control"] = "no-store, private"
    return response


@login_required
@require_GET
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    profile = profile_for(request.user)
    chunks = exports.csv_lines(request.user, profile.tzinfo)
    return _download(request, chunks, content_type="text/csv; charset=utf-8", extension="csv")


@login_required
@require_GET
def export_json(request: HttpRequest) -> StreamingHttpResponse:
    profile = profile_for(request.user)
    chunks = exports.json_chunks(request.user, profile.tzinfo, str(profile.tzinfo))
    return _download(request, chunks, content_type="application/json", extension="json")
