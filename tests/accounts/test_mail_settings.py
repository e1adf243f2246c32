"""Mail, proxy and database settings come from the environment, with the README's defaults."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.hardening.conftest import BASE_DIR, production_env, run_python

SHOW = (
    "import json, django\n"
    "django.setup()\n"
    "from django.conf import settings as s\n"
    "print(json.dumps({'mail': s.MAILERS['default'], 'hops': s.TRUSTED_PROXY_HOPS,\n"
    " 'reset': s.PASSWORD_RESET_TIMEOUT, 'from': s.DEFAULT_FROM_EMAIL}))\n"
)


def test_production_mail_goes_through_the_configured_smtp_server():
    env = production_env(
        DJANGO_EMAIL_HOST="smtp.example.org",
        DJANGO_EMAIL_PORT="587",
        DJANGO_EMAIL_HOST_USER="easeback",
        DJANGO_EMAIL_HOST_PASSWORD="s3cret",
        DJANGO_EMAIL_USE_TLS="true",
        DJANGO_DEFAULT_FROM_EMAIL="EaseBack <care@example.org>",
        DJANGO_TRUSTED_PROXY_HOPS="1",
    )
    result = run_python(SHOW, env)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)

    assert shown["mail"]["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert shown["mail"]["OPTIONS"] | {"timeout": 10} == {
        "host": "smtp.example.org",
        "port": 587,
        "username": "easeback",
        "password": "s3cret",
        "use_tls": True,
        "use_ssl": False,
        "timeout": 10,
    }
    assert shown["from"] == "EaseBack <care@example.org>"
    assert shown["hops"] == 1
    assert shown["reset"] == 3600

    deploy = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr


def test_development_prints_mail_on_the_console_and_ignores_forwarded_addresses():
    result = run_python(SHOW, production_env(DJANGO_DEBUG="true"))
    shown = json.loads(result.stdout)

    assert shown["mail"]["BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert shown["hops"] == 0


def test_tls_and_ssl_together_stop_the_start_up():
    result = run_python(
        SHOW, production_env(DJANGO_EMAIL_USE_TLS="true", DJANGO_EMAIL_USE_SSL="true")
    )

    assert result.returncode != 0
    assert "Set only one of DJANGO_EMAIL_USE_TLS and DJANGO_EMAIL_USE_SSL" in result.stderr
