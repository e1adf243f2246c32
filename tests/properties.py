"""How many examples a hypothesis test generates: the full count in CI, a tenth locally.

The profiles themselves are registered in tests/conftest.py ("ci" when CI is set, or
HYPOTHESIS_PROFILE=ci by hand; "dev" otherwise).
"""

import os


def full_counts() -> bool:
    profile = os.environ.get("HYPOTHESIS_PROFILE")
    return profile == "ci" if profile else bool(os.environ.get("CI"))


def examples(n: int) -> int:
    """``n`` examples in CI, a tenth (at least 10) while developing."""
    return n if full_counts() else max(10, n // 10)
