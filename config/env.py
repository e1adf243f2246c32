"""Small typed readers for environment variables.

Each one fails with a one-line message that names the variable, so a typo in a
deployment is caught at start-up instead of surfacing as a traceback later.
"""

import os
import zoneinfo

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (got {raw!r}).")


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number (got {raw!r}).") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum} (got {value}).")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_time_zone(name: str, default: str) -> str:
    value = env_str(name, default)
    if value not in zoneinfo.available_timezones():
        raise ImproperlyConfigured(
            f"{name} must be an IANA time zone such as Europe/London (got {value!r})."
        )
    return value


def env_database(name: str, default: str) -> dict:
    import dj_database_url

    raw = env_str(name, default)
    try:
        config = dj_database_url.parse(raw)
    except Exception as exc:  # dj-database-url raises several types for bad input
        raise ImproperlyConfigured(f"{name} is not a valid database URL: {exc}") from None
    engine = config.get("ENGINE", "")
    if not engine or (engine.endswith("postgresql") and not config.get("NAME")):
        raise ImproperlyConfigured(f"{name} is not a valid database URL (got {raw!r}).")
    return config


# Secret keys that appear in examples and old versions of compose.yaml and the Dockerfile:
# a deployment that copied one would sign its sessions with a key anyone can read.
PLACEHOLDER_SECRET_MARKERS = ("change-me", "changeme", "placeholder", "not-secret", "insecure")


def is_placeholder_secret(value: str) -> bool:
    lowered = value.lower()
    return any(marker in lowered for marker in PLACEHOLDER_SECRET_MARKERS)
