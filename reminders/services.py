"""Reminders' writes and the sender: every database side of ``reminders.schedule``."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from accounts.models import Profile
from accounts.services import profile_for
from reminders.models import (
    CalendarFeed,
    FeedRequestCount,
    PushSubscription,
    ReminderSent,
    ReminderSettings,
)
from reminders.push import Outcome, Pusher
from reminders.schedule import (
    PlanState,
    ReminderKind,
    Slot,
    due_slots,
    next_wakeup,
    reminder_for,
    slots_on,
)
from stretches.progression import STANDING_HUG
from stretches.safety import gate_state
from stretches.screening import GateReason
from tracking.models import Session

SENDER_BATCH = 200
FEED_WINDOW = timedelta(hours=1)

PAYLOADS = {
    ReminderKind.SESSION: {
        "title": "Back stretches",
        "body": "Time for your stretches: today's plan is ready.",
        "url": "/today/",
    },
    ReminderKind.SAFETY: {
        "title": "Back stretches",
        "body": "Before your next stretch, please answer the safety questions.",
        "url": "/screening/",
    },
}


def plan_state(user) -> PlanState:
    """What the safety gate says about this user's plan now (the one place reminders ask)."""
    decision = gate_state(user).decision
    if decision.allowed:
        return PlanState.OPEN
    if decision.reason is GateReason.PAUSED_TODAY:
        return PlanState.PAUSED_TODAY
    return PlanState.CLOSED


def settings_for(user) -> ReminderSettings:
    reminder_settings, _ = ReminderSettings.objects.get_or_create(user=user)
    return reminder_settings


def upcoming(user, now: datetime, days: int = 7) -> list[Slot]:
    """The user's reminders from now on, for the page (DST and quiet hours applied)."""
    profile = profile_for(user)
    rules = settings_for(user).rules
    tz = profile.tzinfo
    today = now.astimezone(tz).date()
    found = []
    for offset in range(days + 1):
        found.extend(
            s for s in slots_on(today + timedelta(days=offset), rules, profile.phase_enum, tz)
        )
    return [s for s in found if s.at >= now][: days * 3]


def settings_changed(reminder_settings: ReminderSettings) -> None:
    """After an edit the sender looks at the user at once and works out the next time."""
    ReminderSettings.objects.filter(pk=reminder_settings.pk).update(next_due_at=None)


# --- Calendar feed ------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_feed_token(user) -> str:
    """A new feed address for the user; any earlier one stops working. Shown once."""
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(user=user, defaults={"token_hash": hash_token(token)})
    return token


def feed_for_token(token: str) -> CalendarFeed | None:
    return (
        CalendarFeed.objects.select_related("user__profile")
        .filter(token_hash=hash_token(token))
        .first()
    )


def allow_feed_request(address: str, now: datetime, limit: int) -> bool:
    """Count a feed request from ``address``; False once it has made ``limit`` this hour."""
    window = now.replace(minute=0, second=0, microsecond=0)
    FeedRequestCount.objects.get_or_create(address=address, window_start=window)
    counted = FeedRequestCount.objects.filter(
        address=address, window_start=window, count__lt=limit
    ).update(count=F("count") + 1)
    return counted == 1


def forget_old_feed_counts(now: datetime) -> int:
    deleted, _ = FeedRequestCount.objects.filter(window_start__lt=now - 2 * FEED_WINDOW).delete()
    return deleted


# --- Push subscriptions ---------------------------------------------------------------


def save_subscription(*, user, endpoint: str, p256dh: str, auth: str, device: str):
    """One row per device: the same endpoint again updates it (and moves it to this user)."""
    subscription, _ = PushSubscription.objects.update_or_create(
        endpoint=endpoint,
        defaults={"user": user, "p256dh": p256dh, "auth": auth, "device": device[:120]},
    )
    settings_changed(settings_for(user))
    return subscription


# --- The sender -----------------------------------------------------------------------


@dataclass
class SendReport:
    users_checked: int = 0
    reminders_due: int = 0
    sent: Counter = field(default_factory=Counter)  # by kind
    skipped_done: int = 0  # a session already logged for that slot
    already_sent: int = 0  # another sender got there first
    deliveries: Counter = field(default_factory=Counter)  # by Outcome

    def line(self) -> str:
        return (
            f"checked {self.users_checked} users, {self.reminders_due} reminders due, "
            f"sent {sum(self.sent.values())} ({dict(self.sent)}), "
            f"skipped {self.skipped_done} already done, {self.already_sent} sent elsewhere; "
            f"deliveries {dict(self.deliveries)}"
        )


def _candidates(now: datetime):
    has_device = Exists(PushSubscription.objects.filter(user=OuterRef("user")))
    profile_zone = Profile.objects.filter(user=OuterRef("user")).values("time_zone")[:1]
    return (
        ReminderSettings.objects.filter(push_enabled=True)
        .filter(has_device)
        .filter(
            Q(next_due_at__isnull=True)
            | Q(next_due_at__lte=now)
            | ~Q(computed_time_zone=profile_zone)
        )
    )


def send_due_reminders(now: datetime | None = None, *, pusher: Pusher | None) -> SendReport:
    """Send every reminder due now, each at most once however many senders run.

    Batches of settings rows are locked with SKIP LOCKED (PostgreSQL), so concurrent
    senders share the work instead of waiting on each other. Each reminder is claimed by
    inserting its unique ReminderSent row before anything is pushed; a row another sender
    inserted first is simply not ours, which also keeps SQLite (no row locks) to one send.
    """
    now = now or timezone.now()
    report = SendReport()
    last_pk = 0
    while True:
        with transaction.atomic():
            batch = list(
                _candidates(now)
                .filter(pk__gt=last_pk)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("user__profile")
                .order_by("pk")[:SENDER_BATCH]
            )
            if not batch:
                break
            last_pk = batch[-1].pk
            _handle_batch(batch, now, pusher, report)
    return report


def _handle_batch(batch: list[ReminderSettings], now: datetime, pusher, report) -> None:
    due: dict[int, tuple[ReminderSettings, list[Slot]]] = {}
    for row in batch:
        report.users_checked += 1
        profile = profile_for(row.user)
        slots = due_slots(now, row.rules, profile.phase_enum, profile.tzinfo)
        if slots:
            due[row.user_id] = (row, slots)
        row.next_due_at = next_wakeup(now, row.rules, profile.tzinfo)
        row.computed_time_zone = profile.time_zone
    claim = uuid.uuid4()
    wanted = []
    done = _sessions_by_user_and_day(due)
    for user_id, (row, slots) in due.items():
        profile = row.user.profile
        tz, phase = profile.tzinfo, profile.phase_enum
        plan = plan_state(row.user)
        for slot in slots:
            report.reminders_due += 1
            week_start = slot.day - timedelta(days=slot.day.weekday())
            kind = reminder_for(
                slot,
                phase=phase,
                plan=plan,
                first_number_today=slots_on(slot.day, row.rules, phase, tz)[0].number,
                sessions_that_day=done[user_id][slot.day],
                sessions_that_week=sum(
                    n for day, n in done[user_id].items() if week_start <= day <= slot.day
                ),
            )
            if kind is None:
                report.skipped_done += 1
                continue
            wanted.append(
                ReminderSent(
                    user_id=user_id,
                    day=slot.day,
                    number=slot.number,
                    kind=kind.value,
                    sent_at=now,
                    claim=claim,
                )
            )
    if wanted:
        ReminderSent.objects.bulk_create(wanted, ignore_conflicts=True)
        ours = list(ReminderSent.objects.filter(claim=claim))
        report.already_sent += len(wanted) - len(ours)
        _push(ours, now, pusher, report)
    ReminderSettings.objects.bulk_update(batch, ["next_due_at", "computed_time_zone"])


def _sessions_by_user_and_day(due: dict) -> dict[int, Counter]:
    """Plan sessions per user and local day, from the Monday before the earliest due day."""
    counts: dict[int, Counter] = defaultdict(Counter)
    if not due:
        return counts
    zones = {user_id: row.user.profile.tzinfo for user_id, (row, _) in due.items()}
    first_day = min(slot.day for _, slots in due.values() for slot in slots)
    # A day earlier than needed, so that every time zone's Monday is covered.
    since = first_day - timedelta(days=first_day.weekday() + 1)
    start = datetime.combine(since, datetime.min.time(), tzinfo=UTC)
    sessions = (
        Session.objects.filter(user_id__in=list(due), performed_at__gte=start)
        .exclude(exercise__slug=STANDING_HUG)  # desk-break hugs are not plan sessions
        .values_list("user_id", "performed_at")
    )
    for user_id, moment in sessions:
        counts[user_id][moment.astimezone(zones[user_id]).date()] += 1
    return counts


def _push(claimed: list[ReminderSent], now: datetime, pusher: Pusher | None, report) -> None:
    devices: dict[int, list[PushSubscription]] = defaultdict(list)
    for subscription in PushSubscription.objects.filter(
        user_id__in={sent.user_id for sent in claimed}
    ):
        devices[subscription.user_id].append(subscription)
    jobs = []
    for sent in claimed:
        report.sent[sent.kind] += 1
        payload = PAYLOADS[ReminderKind(sent.kind)] | {
            "tag": f"easeback-{sent.day.isoformat()}-{sent.number}"
        }
        jobs += [(sent, subscription, payload) for subscription in devices[sent.user_id]]
    if pusher is None:
        return
    # Push services answer in tens of milliseconds: send in parallel, not one by one.
    outcomes = pusher.send_many([(sub.subscription_info, payload) for _, sub, payload in jobs])
    delivered, gone = [], []
    for (sent, subscription, _), outcome in zip(jobs, outcomes, strict=True):
        report.deliveries[outcome.value] += 1
        if outcome is Outcome.GONE:
            gone.append(subscription.pk)
        elif outcome is Outcome.DELIVERED:
            delivered.append(subscription.pk)
            sent.devices_reached += 1
    PushSubscription.objects.filter(pk__in=gone).delete()
    PushSubscription.objects.filter(pk__in=delivered).update(last_sent_at=now)
    ReminderSent.objects.bulk_update(claimed, ["devices_reached"])
