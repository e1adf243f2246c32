"""PEG-3, the three-item pain scale of Krebs et al. (J Gen Intern Med, 2009), as pure functions.

Three 0-10 ratings of the past week: average pain (P), how much pain interfered with
enjoyment of life (E) and with general activity (G). The score is their mean, shown
with one decimal. No Django imports: weekly answers in, scores and their change out.

The change between the first and the latest score is reported as points and percent
and nothing more: the scale's authors give no threshold the app could honestly apply
to one person's weekly self-ratings, so it draws no conclusion of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

PEG_MIN, PEG_MAX = 0, 10
ITEMS = ("pain", "enjoyment", "activity")


def peg_score(pain: int, enjoyment: int, activity: int) -> Decimal:
    """The mean of the three ratings, one decimal, halves rounded up (15/3 = 5.0, 16/3 = 5.3)."""
    for value in (pain, enjoyment, activity):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"PEG ratings are whole numbers, got {value!r}")
        if not PEG_MIN <= value <= PEG_MAX:
            raise ValueError(f"PEG ratings run from {PEG_MIN} to {PEG_MAX}, got {value}")
    exact = Decimal(pain + enjoyment + activity) / Decimal(3)
    return exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PegWeek:
    """One programme week's answers."""

    week: int
    first_day: date
    pain: int
    enjoyment: int
    activity: int

    @property
    def score(self) -> Decimal:
        return peg_score(self.pain, self.enjoyment, self.activity)


@dataclass(frozen=True)
class PegChange:
    """The latest score against the first: points and percent, no verdict."""

    first: PegWeek
    latest: PegWeek

    @property
    def points(self) -> Decimal:
        """Latest minus first, on the scores as shown, so the page's numbers add up."""
        return self.latest.score - self.first.score

    @property
    def percent(self) -> int | None:
        """The change as a whole percent of the first score, cut toward zero; None from 0."""
        if not self.first.score:
            return None
        share = abs(self.points) * 100 / self.first.score
        return int(share.quantize(Decimal("1"), rounding=ROUND_DOWN))

    @property
    def sentence(self) -> str:
        """E.g. "Week 1 6.3, week 5 4.7: down 1.6 points (25 %)"."""
        text = (
            f"Week {self.first.week} {self.first.score}, week {self.latest.week} "
            f"{self.latest.score}: "
        )
        if not self.points:
            return text + "no change"
        direction = "down" if self.points < 0 else "up"
        text += f"{direction} {abs(self.points)} point{'' if abs(self.points) == 1 else 's'}"
        if self.percent is not None:
            text += f" ({self.percent} %)"
        return text


@dataclass(frozen=True)
class PegSummary:
    weeks: list[PegWeek]  # answered weeks, oldest first
    skipped: int = 0

    @property
    def latest(self) -> PegWeek | None:
        return self.weeks[-1] if self.weeks else None

    @property
    def change(self) -> PegChange | None:
        if len(self.weeks) < 2:
            return None
        return PegChange(self.weeks[0], self.weeks[-1])

    @property
    def by_week(self) -> dict[int, PegWeek]:
        return {w.week: w for w in self.weeks}


def summarise(weeks: Iterable[PegWeek], skipped: int = 0) -> PegSummary:
    return PegSummary(sorted(weeks, key=lambda w: w.week), skipped)
