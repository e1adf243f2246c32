"""Fill one benchmark database; run by bench/run.py with DATABASE_URL pointing at it.

    python -m bench.seed --mode one                  # only the year-long demo user
    python -m bench.seed --mode full --sessions N --users M --export-sessions K

Both modes create the same demo user (a year of ``sample_sessions``, a screening
every 28 days, weekly check-ins). ``full`` adds a user with 10 sessions, two export
users (100 and K sessions) and background users until the database holds N sessions
across M users. Every session goes in through one time-ordered INSERT ... SELECT, so
a user's rows are spread over the table the way a year of real traffic spreads them,
not packed together as a bulk load would leave them.

Prints one JSON object: the users' ids, session counts and session keys (cookies).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.services import create_account  # noqa: E402
from stretches.models import Exercise, Screening  # noqa: E402
from stretches.progression import Phase  # noqa: E402
from stretches.screening import QUESTIONS, Verdict  # noqa: E402
from tracking.demo import sample_sessions  # noqa: E402
from tracking.models import WeeklyCheckin  # noqa: E402

DEMO_TIME_ZONE = "Europe/London"
PROGRAMME_DAYS = 365
PASSWORD = "bench-not-a-secret-1"  # noqa: S105
SCREENING_EVERY_DAYS = 28
LOAD_SESSIONS = 16
# People logging at once for the log POST's load run: each has the demo user's year.
LOG_USERS = 8
BACKGROUND_TIME_ZONES = ["Europe/London", "America/New_York", "Australia/Sydney", "UTC"]

STAGING_COLUMNS = [
    "user_id",
    "performed_at",
    "exercise_id",
    "sides",
    "reps_per_side",
    "hold_seconds",
    "hold_seconds_target",
    "pain_before",
    "pain_after",
    "stop_signals",
    "has_stop_signal",
    "note",
    "client_token",
]


def answers_json() -> str:
    return json.dumps({q.id: False for q in QUESTIONS})


def make_user(username: str, *, days: int = PROGRAMME_DAYS):
    user = create_account(username=username, password=PASSWORD, time_zone=DEMO_TIME_ZONE)
    profile = user.profile
    profile.programme_start = profile.local_today() - timedelta(days=days)
    profile.save(update_fields=["programme_start"])
    now = timezone.now()
    # The latest screening is two days old, so the 28-day gate is open all run long.
    taken = [now - timedelta(days=2 + k * SCREENING_EVERY_DAYS) for k in range(days // 28 + 1)]
    Screening.objects.bulk_create(
        Screening(
            user=user,
            taken_at=moment,
            answers={q.id: False for q in QUESTIONS},
            verdict=Verdict.CLEAR.value,
            reason=Screening.Reason.DUE,
        )
        for moment in taken
    )
    return user


def demo_rows(user) -> list[tuple]:
    """The demo user's year: sample_sessions from the programme start up to now."""
    profile = user.profile
    now = timezone.now()
    sessions = sample_sessions(
        user, start=profile.programme_start, days=PROGRAMME_DAYS + 1, tz=profile.tzinfo
    )
    return [
        (
            user.pk,
            s.performed_at,
            s.exercise_id,
            s.sides,
            s.reps_per_side,
            s.hold_seconds,
            s.hold_seconds_target,
            s.pain_before,
            s.pain_after,
            json.dumps(s.stop_signals),
            s.has_stop_signal,
            s.note,
            s.client_token,
        )
        for s in sessions
        if s.performed_at <= now - timedelta(minutes=1)
    ]


# Random sessions for users other than the demo: up to ``days`` back, pain 0-10, about
# one in a hundred with a stop signal. ``%(ids)s`` is an array of user ids.
GENERATED = """
    INSERT INTO bench_staging ({columns})
    SELECT ids[1 + (g %% cardinality(ids))],
           now() - interval '1 minute' - random() * %(days)s * interval '1 day',
           exercises[1 + (g %% cardinality(exercises))],
           'left_right', 3, 20 + (g %% 41), 20 + (g %% 41),
           pain, greatest(0, pain - (g %% 3)),
           CASE WHEN g %% 97 = 0 THEN '["cramp"]'::jsonb ELSE '[]'::jsonb END,
           g %% 97 = 0, '', gen_random_uuid()
    FROM generate_series(1, %(count)s) AS g,
         LATERAL (SELECT floor(random() * 11)::int AS pain) AS p,
         (SELECT %(ids)s::bigint[] AS ids) AS u,
         (SELECT array_agg(id ORDER BY id) AS exercises FROM stretches_exercise
          WHERE slug IN ('single-knee-to-chest', 'morning-in-bed')) AS e
"""


def add_background_users(count: int) -> list[int]:
    """Users made in SQL, each with what a year of use leaves in the other tables.

    A profile, a login session, a screening every 28 days (one in twenty with a
    clearance) and a weekly check-in: with those tables as big as in production, the
    planner picks the plans it would pick there.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,
                                   email, is_staff, is_active, date_joined)
            SELECT '!', false, 'bench-' || g, '', '', '', false, true, now() - interval '1 year'
            FROM generate_series(1, %s) AS g
            RETURNING id
            """,
            [count],
        )
        ids = sorted(row[0] for row in cursor.fetchall())
        cursor.execute(
            """
            INSERT INTO accounts_profile (user_id, time_zone, programme_start, phase, desk_work,
                                          sciatica_side, data_version, history_version,
                                          verified_email, display_name)
            SELECT id, (%s::text[])[1 + id %% 4], current_date - 365, %s, id %% 3 = 0, '', 0, 0,
                   '', ''
            FROM unnest(%s::bigint[]) AS id
            """,
            [BACKGROUND_TIME_ZONES, Phase.STANDARD.value, ids],
        )
        cursor.execute(
            """
            INSERT INTO stretches_screening (user_id, taken_at, answers, verdict, reason, triggers)
            SELECT id, now() - (2 + k * 28) * interval '1 day', %s::jsonb, %s, 'due', '[]'
            FROM unnest(%s::bigint[]) AS id, generate_series(0, 13) AS k
            """,
            [answers_json(), Verdict.CLEAR.value, ids],
        )
        cursor.execute(
            """
            INSERT INTO stretches_clearance (user_id, screening_id, cleared_on, note, recorded_at,
                                             cleared_by, covers)
            SELECT user_id, id, taken_at::date, '', taken_at, 'gp', '[]' FROM stretches_screening
            WHERE user_id = ANY(%s) AND user_id %% 20 = 0 AND taken_at < now() - interval '300 days'
            """,
            [ids],
        )
        cursor.execute(
            """
            INSERT INTO tracking_weeklycheckin (user_id, week, movement, sleep, answered_at)
            SELECT id, week, (ARRAY['better', 'same', 'worse'])[1 + (id + week) %% 3], 'same',
                   now() - (53 - week) * interval '7 days'
            FROM unnest(%s::bigint[]) AS id, generate_series(2, 52) AS week
            """,
            [ids],
        )
        cursor.execute(
            """
            INSERT INTO accounts_loginsession (session_key, session_data, expire_date, user_id)
            SELECT md5('bench' || id), 'not-a-real-session', now() + interval '14 days', id
            FROM unnest(%s::bigint[]) AS id
            """,
            [ids],
        )
    return ids


def fill_sessions(demo: list[tuple], generated: list[tuple[list[int], int, int]]) -> None:
    columns = ", ".join(STAGING_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # A million rows in one statement outlast the app's statement timeout on a busy
        # machine; the seed is no request.
        cursor.execute("SET LOCAL statement_timeout = 0")
        # The rows come from our own tables, so the per-row foreign-key triggers only
        # slow the load down (superuser-only; the bench connects as postgres).
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            f"CREATE TEMP TABLE bench_staging ON COMMIT DROP AS "
            f"SELECT {columns} FROM tracking_session WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY bench_staging ({columns}) FROM STDIN") as copy:
            for row in demo:
                copy.write_row(row)
        for ids, count, days in generated:
            if count > 0:
                cursor.execute(
                    GENERATED.format(columns=columns), {"ids": ids, "count": count, "days": days}
                )
        cursor.execute(
            f"""
            INSERT INTO tracking_session ({columns}, version, created_at, updated_at)
            SELECT {columns}, 1, performed_at, performed_at
            FROM bench_staging ORDER BY performed_at
            """
        )


def login_cookie(user) -> str:
    """A session key from the real login form, so the session is exactly what a visitor gets."""
    client = Client(HTTP_HOST="127.0.0.1")
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"logging in {user.username} answered {response.status_code}")
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["one", "full"], required=True)
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=5_000)
    parser.add_argument("--export-sessions", type=int, default=100_000)
    args = parser.parse_args()

    named: dict[str, object] = {}
    with transaction.atomic():
        demo = make_user("bench-year")
        named["demo"] = demo
        checkins = [
            WeeklyCheckin(user=demo, week=week, movement="better", sleep="same")
            for week in range(2, PROGRAMME_DAYS // 7 + 1)
        ]
        WeeklyCheckin.objects.bulk_create(checkins)
        rows = demo_rows(demo)
        generated: list[tuple[list[int], int, int]] = []
        counts = {"demo": len(rows)}
        if args.mode == "full":
            # The 10-session user is recent (last 10 days) like the demo user, so both
            # take the same path through build_plan.
            users = [("ten", 10, 10), ("export_small", 100, 365)]
            users.append(("export_big", args.export_sessions, 365))
            for key, count, days in users:
                named[key] = make_user(f"bench-{key.replace('_', '-')}")
                generated.append(([named[key].pk], count, days))
                counts[key] = count
            # Eight people with the demo user's year each, who log a session at the
            # same time (the log POST's load run): one login session per wrk connection.
            log_users = []
            for n in range(1, LOG_USERS + 1):
                person = make_user(f"bench-year-{n}")
                WeeklyCheckin.objects.bulk_create(
                    WeeklyCheckin(user=person, week=check.week, movement="better", sleep="same")
                    for check in checkins
                )
                rows += demo_rows(person)
                log_users.append(person)
            counts["log_users"] = len(rows) - counts["demo"]
            background = add_background_users(args.users - len(named) - len(log_users))
            remaining = args.sessions - sum(counts.values())
            generated.append((background, remaining, 365))
            counts["background"] = remaining
        fill_sessions(rows, generated)
        cookies = {key: login_cookie(user) for key, user in named.items()}
        # One session per wrk connection: concurrent requests then update different
        # login session rows, as different visitors would, instead of queueing on one.
        cookies["demo_pool"] = [login_cookie(demo) for _ in range(LOAD_SESSIONS)]
        if args.mode == "full":
            cookies["log_pool"] = [login_cookie(person) for person in log_users]
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT count(*), count(DISTINCT user_id) FROM tracking_session")
        total, users = cursor.fetchone()
    json.dump(
        {
            "ids": {key: user.pk for key, user in named.items()},
            "sessions": counts,
            "cookies": cookies,
            "total_sessions": total,
            "users_with_sessions": users,
            "exercises": Exercise.objects.count(),
            "cookie_name": settings.SESSION_COOKIE_NAME,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
