"""Slow clients meet nginx, not gunicorn: deploy/nginx.conf in front of the real app.

Debian's nginx runs the repository's config (only the upstream address, the ports and
the certificate paths changed) in front of gunicorn started with deploy/gunicorn.conf.py
and production settings. 100 connections that send their headers slowly are held open,
and /healthz still answers through nginx within a second. The same slow clients sent
straight to gunicorn show what nginx prevents.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.hardening.conftest import BASE_DIR, FIGURES, production_env

NGINX = "/usr/sbin/nginx"
SLOW_CONNECTIONS = 100
PARTIAL_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on port {port}")


@functools.cache
def tls_context() -> ssl.SSLContext:
    # Our own throwaway certificate: nothing to verify, and no CA store to load.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def nginx_config(folder: Path, *, app_port: int, http_port: int, https_port: int) -> Path:
    """The repository's deploy/nginx.conf with local ports and paths, inside a main config."""
    site = (BASE_DIR / "deploy" / "nginx.conf").read_text()
    replacements = {
        "server app:8000;": f"server 127.0.0.1:{app_port};",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "/etc/nginx/certs/": f"{folder}/",
        "/var/www/acme": f"{folder}/acme",
    }
    for old, new in replacements.items():
        assert old in site, old  # the test follows the shipped file
        site = site.replace(old, new)
    (folder / "easeback.conf").write_text(site)
    main = folder / "nginx.conf"
    main.write_text(
        f"""
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/easeback.conf;
}}
"""
    )
    return main


def self_signed_certificate(folder: Path) -> None:
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1",
            "-keyout", str(folder / "privkey.pem"), "-out", str(folder / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip


def healthz_seconds(port: int, *, tls: bool, timeout: float = 1.0) -> tuple[float, int | None]:
    """How long /healthz took, and its status (None when it did not answer in time)."""
    started = time.monotonic()
    conn = (
        http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=tls_context())
        if tls
        else http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    )
    try:
        conn.request("GET", "/healthz")
        status = conn.getresponse().status
    except (TimeoutError, OSError):
        status = None
    finally:
        conn.close()
    return time.monotonic() - started, status


def open_slow_clients(port: int, count: int, *, tls: bool) -> list[socket.socket]:
    clients = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if tls:
            sock = tls_context().wrap_socket(sock, server_hostname="127.0.0.1")
        sock.sendall(PARTIAL_REQUEST)  # and never the blank line that ends the headers
        clients.append(sock)
    return clients


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_nginx_holds_100_slow_clients_while_healthz_answers_within_a_second():
    if not os.path.exists(NGINX) or not shutil.which("openssl"):
        pytest.fail("needs Debian's nginx and openssl: apt-get install -y nginx openssl")
    folder = Path(tempfile.mkdtemp(prefix="easeback-nginx-"))
    folder.chmod(0o755)  # nginx's workers (nobody) write their temp files here
    app_port, http_port, https_port = free_port(), free_port(), free_port()
    db = connection.settings_dict
    env = production_env(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_BEHIND_PROXY="true",
        DJANGO_TRUSTED_PROXY_HOPS="1",
        GUNICORN_BIND=f"127.0.0.1:{app_port}",
        GUNICORN_WORKERS="1",
    )
    gunicorn = Path(sys.executable).parent / "gunicorn"
    processes: list[subprocess.Popen] = []
    clients: list[socket.socket] = []
    try:
        self_signed_certificate(folder)
        main = nginx_config(folder, app_port=app_port, http_port=http_port, https_port=https_port)
        processes.append(
            subprocess.Popen(
                [str(gunicorn), "--config", "deploy/gunicorn.conf.py", "config.wsgi:application"],
                cwd=BASE_DIR,
                env=env,
                stdout=(folder / "app.log").open("w"),
                stderr=subprocess.STDOUT,
            )
        )
        processes.append(
            subprocess.Popen(
                [NGINX, "-c", str(main), "-p", str(folder), "-g", "daemon off;"],
                stdout=subprocess.DEVNULL,
                stderr=(folder / "nginx.out").open("w"),
            )
        )
        wait_for_port(app_port)
        wait_for_port(https_port)
        assert healthz_seconds(https_port, tls=True, timeout=10)[1] == 200, (
            folder / "app.log"
        ).read_text()[-2000:]

        clients = open_slow_clients(https_port, SLOW_CONNECTIONS, tls=True)
        time.sleep(0.5)
        through_nginx = [healthz_seconds(https_port, tls=True) for _ in range(5)]

        assert all(status == 200 for _, status in through_nginx), through_nginx
        worst = max(seconds for seconds, _ in through_nginx)
        assert worst < 1.0
        # The plain-HTTP server only redirects to HTTPS.
        plain = http.client.HTTPConnection("127.0.0.1", http_port, timeout=2)
        plain.request("GET", "/today/")
        assert plain.getresponse().getheader("Location", "").startswith("https://")
        plain.close()

        # The same slow clients sent straight to gunicorn take all its threads.
        direct = open_slow_clients(app_port, 16, tls=False)
        clients += direct
        time.sleep(0.3)
        _, direct_status = healthz_seconds(app_port, tls=False)
        FIGURES["other"]["proxy: slow connections held by nginx"] = SLOW_CONNECTIONS
        FIGURES["other"]["proxy: worst /healthz through nginx meanwhile (ms)"] = round(worst * 1000)
        FIGURES["other"]["proxy: /healthz straight to gunicorn with 16 slow clients"] = (
            "no answer within 1 s" if direct_status is None else f"answered {direct_status}"
        )
        assert direct_status is None
    finally:
        for sock in clients:
            with contextlib.suppress(OSError):
                sock.close()
        for process in processes:
            process.terminate()
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def test_gunicorn_trusts_forwarded_headers_only_from_the_local_machine():
    config = (BASE_DIR / "deploy" / "gunicorn.conf.py").read_text()
    dockerfile = (BASE_DIR / "Dockerfile").read_text()

    setting = re.search(r"^forwarded_allow_ips = (.*)$", config, re.MULTILINE)[1]
    assert '"127.0.0.1,::1"' in setting and "*" not in setting
    assert "forwarded-allow-ips" not in dockerfile.split("CMD", 1)[1]
    assert "deploy/gunicorn.conf.py" in dockerfile


def test_compose_publishes_only_nginx_and_migrates_before_the_app():
    compose = (BASE_DIR / "compose.yaml").read_text()
    services = dict(re.findall(r"^  (\w+):\n((?:    .*\n|\n)*)", compose, re.MULTILINE))

    published = [name for name, body in services.items() if "ports:" in body]
    assert published == ["nginx"]
    assert "service_completed_successfully" in services["app"]
    assert 'manage.py", "migrate' in services["migrate"]
    assert "deploy/nginx.conf:/etc/nginx/conf.d/default.conf" in services["nginx"]
    # No secret with a value that would work: compose stops when one is missing.
    assert "change-me" not in compose
    assert "${DJANGO_SECRET_KEY:?" in compose and "${POSTGRES_PASSWORD:?" in compose
