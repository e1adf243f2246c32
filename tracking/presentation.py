"""Every word and number the progress page and the report show about trends (SPEC 2.2).

One way to format a number: ``one_decimal`` rounds the exact value half-up (away from
zero on a tie) to one decimal, and every figure shown (means, changes, percentages) goes
through it. The rules themselves (series, comparison, signs) decide on exact values; this
module only words them. Plurals come from Django's ``ngettext``, never by hand.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.utils.translation import get_language, ngettext

DASH = "–"


def one_decimal(value: Fraction | float | int | None) -> float | None:
    """A figure as people read it: one decimal, halves rounded away from zero."""
    if value is None:
        return None
    if isinstance(value, int | Fraction):
        # Exactly, in integers: tenths = |n| * 10 / d, rounded half up, signed back.
        numerator, denominator = value.numerator, value.denominator
        tenths = (20 * abs(numerator) + denominator) // (2 * denominator)
        return tenths / 10 if numerator >= 0 else -(tenths / 10)  # -0.0, as Decimal says
    exact = Decimal(str(value))
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def fmt(value: Fraction | float | int | None) -> str:
    """The one number format: "3.5", "2.0", or a dash when there is no value."""
    shown = one_decimal(value)
    return DASH if shown is None else f"{shown:.1f}"


def count(n: int, singular: str, plural: str | None = None) -> str:
    """ "1 session", "3 sessions": the number and the noun, pluralised by ngettext."""
    return _counted(n, singular, plural, get_language())


# Worded once per number, noun and language: a log POST words its counts about eight
# times, and each ngettext walks the translation catalogues.
@functools.lru_cache(maxsize=2048, typed=True)  # 1 and True are different words
def _counted(n: int, singular: str, plural: str | None, language: str | None) -> str:
    return f"{n} {ngettext(singular, plural or singular + 's', n)}"


def points(value: Fraction | float | int) -> str:
    """ "1.0 point" is still a figure: points are always plural once formatted."""
    return f"{fmt(value)} points"


def percent(fraction: Fraction | float) -> str:
    return f"{fmt(Fraction(fraction) * 100)} %"


def whole_percent(fraction: Fraction) -> str:
    """A threshold such as 30 % or 50 %, written from its constant."""
    value = Fraction(fraction) * 100
    return f"{int(value)} %" if value.denominator == 1 else percent(fraction)


# --- Prescriptions ----------------------------------------------------------------------


def prescribed_text(prescribed: tuple[int, int]) -> str:
    low, high = prescribed
    return str(low) if low == high else f"{low}-{high}"


def prescription_phrase(per_day: int | None, per_week: tuple[int, int]) -> str:
    """E.g. "2 a day, 14 a week" or "3-4 a week"."""
    if per_day is None:
        return f"{prescribed_text(per_week)} a week"
    return f"{per_day} a day, {prescribed_text(per_week)} a week"


# --- The comparison with the baseline week ---------------------------------------------

OUTCOME_LABELS = {
    "pain_free": "Pain-free",
    "substantial": "Substantial improvement",
    "meaningful": "Meaningful improvement",
    "worse": "Getting worse",
    "no_change": "No meaningful change yet",
    "too_small": "Too small to judge",
    "not_yet": "Not yet",
    "waiting": "Not enough data yet",
}

OUTCOME_TONES = {
    "pain_free": "ok",
    "substantial": "ok",
    "meaningful": "ok",
    "worse": "warn",
}


def change_sentence(baseline: Fraction, recent: Fraction, recent_days: int) -> str:
    """E.g. "baseline 6.2, last 7 days 3.9: down 2.3 points, 37.1 %": one rounding for all."""
    text = f"baseline {fmt(baseline)}, last {count(recent_days, 'day')} {fmt(recent)}: "
    change = recent - baseline
    if change == 0:
        return text + "no change"
    direction = "down" if change < 0 else "up"
    text += f"{direction} {points(abs(change))}"
    if baseline:
        text += f", {percent(abs(change) / baseline)}"
    return text


def explanation(outcome: str, rules) -> str:
    """Why this outcome, in words, with every threshold read from ``rules``."""
    # The same few sentences every time (rules are frozen): worded once per language.
    return _explanation(outcome, rules, get_language())


@functools.cache
def _explanation(outcome: str, rules, language: str | None) -> str:
    meaningful = (
        f"at least {count(rules.meaningful_points, 'point')} and at least "
        f"{whole_percent(rules.meaningful_fraction)} lower"
    )
    last = f"the last {count(rules.recent_days, 'day')}"
    return {
        "pain_free": f"Every score before a session in {last} was 0.",
        "substantial": (
            f"Your pain before sessions is {meaningful} than in your baseline week, and at "
            f"least {whole_percent(rules.substantial_fraction)} lower."
        ),
        "meaningful": (
            f"Your pain before sessions is {meaningful} than in your baseline week: "
            "the size of change generally counted as meaningful."
        ),
        "worse": (
            f"Your pain before sessions is {count(rules.worse_points, 'point')} or more higher "
            "than in your baseline week. If it keeps rising, pause the programme and ask a "
            "doctor or physiotherapist."
        ),
        "no_change": (
            f"A meaningful change means {meaningful} than your baseline week. "
            f"Changes often take {weeks_span(rules.changes_take_weeks)} to show."
        ),
        "too_small": (
            f"Your baseline week's mean pain before sessions was under "
            f"{count(rules.smallest_baseline, 'point')}, so any change is too small to judge."
        ),
    }[outcome]


def not_yet_sentence(shown_from: date, first_day: int, recent_days: int) -> str:
    """Before the last days can be told apart from the baseline week: when it will appear."""
    return (
        f"The comparison appears from programme day {first_day}, "
        f"{shown_from:%A} {shown_from.day} {shown_from:%B}: from then on "
        f"the last {count(recent_days, 'day')} no longer overlap your baseline week."
    )


def waiting_sentence(days_logged: int, days_needed: int) -> str:
    missing = days_needed - days_logged
    return (
        f"The comparison needs sessions on at least {count(days_needed, 'different day')}. "
        f"You have {days_logged}: {count(missing, 'more day')} to go."
    )


def relief_sentence(relief: Fraction | None, period: str) -> str:
    """The in-session change, in words; shown apart from the comparison and never feeding it."""
    if relief is None:
        return f"No sessions {period}."
    opening = period[:1].upper() + period[1:]
    if relief == 0:
        return f"{opening}, pain was on average the same after a session as before it."
    direction = "lower" if relief > 0 else "higher"
    return (
        f"{opening}, pain was on average {points(abs(relief))} "
        f"{direction} after a session than before it."
    )


# --- Signs of progress ------------------------------------------------------------------

SIGN_STATUS_LABELS = {"seen": "Seen", "not_yet": "Not yet", "unknown": "Not enough data"}

ANSWER_WORDS = {"better": "better", "same": "the same", "worse": "worse"}


# --- The programme's numbers, worded once for the templates ------------------------------


@dataclass(frozen=True)
class TrendWords:
    """Every programme number the trend templates show, written from the constants."""

    recent: str  # "7 days"
    rolling: str  # "7-day"
    days_needed: str  # "7 different days"
    days_needed_n: int
    meaningful_points: str  # "2 points"
    meaningful_percent: str  # "30 %"
    substantial_percent: str  # "50 %"
    worse_points: str  # "2 points"
    smallest_baseline: str  # "2"
    first_day: str  # "day 14"
    baseline_week: str  # "programme week 1"
    days_per_week: int
    signs_span: str  # "4 to 6 weeks"
    rounding: str


def weeks_span(weeks: tuple[int, int]) -> str:
    return f"{weeks[0]} to {count(weeks[1], 'week')}"


def trend_words(rules, *, rolling_days: int, days_per_week: int) -> TrendWords:
    return TrendWords(
        recent=count(rules.recent_days, "day"),
        rolling=f"{rolling_days}-day",
        days_needed=count(rules.days_needed, "different day"),
        days_needed_n=rules.days_needed,
        meaningful_points=count(rules.meaningful_points, "point"),
        meaningful_percent=whole_percent(rules.meaningful_fraction),
        substantial_percent=whole_percent(rules.substantial_fraction),
        worse_points=count(rules.worse_points, "point"),
        smallest_baseline=str(rules.smallest_baseline),
        first_day=f"day {rules.first_programme_day}",
        baseline_week=f"programme week {rules.baseline_week}",
        days_per_week=days_per_week,
        signs_span=weeks_span(rules.changes_take_weeks),
        rounding=(
            "Every figure is rounded to one decimal, halves rounded up (so 1.95 shows as 2.0); "
            "the comparison itself uses the exact values."
        ),
    )
