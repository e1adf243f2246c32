# The production security settings fixture, shared with the hardening tests.
from tests.hardening.conftest import production, production_settings  # noqa: F401
