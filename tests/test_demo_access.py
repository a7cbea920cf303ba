"""The demo's first-run access: certificates, the admin user and token, the kubeconfig, and
``manage.py up`` serving HTTPS with them."""

from __future__ import annotations

import base64
import datetime as dt
import os
import signal
import stat
import subprocess
import sys
import urllib.request

import pytest
import yaml
from cryptography import x509
from django.conf import settings
from django.contrib.auth.models import User

from cluster import access, kubeconfig, tls
from cluster.models import ApiToken
from cluster.services import find_free_port, port_is_free
from tests.test_api_auth import KubectlWithConfig
from tests.test_services import OutputReader, stop_gracefully

# --- certificates -------------------------------------------------------------------------------


def load(path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_certificates_chain_to_their_own_ca_and_name_localhost(tmp_path):
    files = tls.ensure_certificates(tmp_path)
    ca, server = load(files.ca), load(files.cert)
    server.verify_directly_issued_by(ca)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    left = server.not_valid_after_utc - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=800) < left <= dt.timedelta(days=tls.SERVER_DAYS)


def test_private_keys_are_readable_by_their_owner_only(tmp_path):
    files = tls.ensure_certificates(tmp_path)
    for key in (files.key, files.ca_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_certificates_are_kept_across_runs(tmp_path):
    first = tls.ensure_certificates(tmp_path)
    before = (first.ca.read_bytes(), first.cert.read_bytes(), first.key.read_bytes())
    again = tls.ensure_certificates(tmp_path)
    assert (again.ca.read_bytes(), again.cert.read_bytes(), again.key.read_bytes()) == before


def test_a_new_host_name_gets_a_new_server_certificate_from_the_same_ca(tmp_path):
    first = tls.ensure_certificates(tmp_path)
    ca_before, cert_before = first.ca.read_bytes(), first.cert.read_bytes()
    hosts = (*tls.DEFAULT_HOSTS, "kubarium.test")
    again = tls.ensure_certificates(tmp_path, hosts)
    assert again.ca.read_bytes() == ca_before
    assert again.cert.read_bytes() != cert_before
    names = load(again.cert).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert "kubarium.test" in names.value.get_values_for_type(x509.DNSName)


def test_a_broken_server_certificate_is_replaced(tmp_path):
    files = tls.ensure_certificates(tmp_path)
    files.cert.write_text("not a certificate")
    tls.ensure_certificates(tmp_path)
    load(files.cert).verify_directly_issued_by(load(files.ca))


def test_daphne_endpoint_escapes_colons(tmp_path):
    files = tls.files_in(tmp_path / "a:b")
    endpoint = tls.daphne_endpoint(8443, files)
    assert endpoint.startswith("ssl:port=8443:interface=127.0.0.1:privateKey=")
    assert "a\\:b/server.key" in endpoint and "a\\:b/server.crt" in endpoint


def test_with_tls_adds_the_endpoint_before_the_application():
    argv = ["python", "-m", "daphne", "-b", "127.0.0.1", "-p", "8000", "dashboard.asgi:application"]
    assert tls.with_tls(argv, "ssl:port=8443")[-3:] == [
        "-e",
        "ssl:port=8443",
        "dashboard.asgi:application",
    ]


# --- the admin user and the kubeconfig ----------------------------------------------------------

SERVER = "https://127.0.0.1:8443"


def token_in(path) -> str:
    return yaml.safe_load(path.read_text())["users"][0]["user"]["token"]


@pytest.mark.django_db
def test_first_run_makes_an_admin_a_token_and_a_kubeconfig(tmp_path):
    ca_pem = tls.ensure_certificates(tmp_path / "tls").ca_pem()
    made = kubeconfig.ensure_demo_access(tmp_path, SERVER, ca_pem)

    assert made.token_created and made.username == "admin"
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password(made.password_file.read_text().strip())
    document = yaml.safe_load(made.kubeconfig.read_text())
    assert document["current-context"] == "kubarium"
    assert document["contexts"][0]["context"]["namespace"] == "default"
    cluster = document["clusters"][0]["cluster"]
    assert cluster["server"] == SERVER
    assert base64.b64decode(cluster["certificate-authority-data"]) == ca_pem
    assert access.token_user(token_in(made.kubeconfig)) == admin
    for secret_file in (made.kubeconfig, made.password_file):
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600


@pytest.mark.django_db
def test_later_runs_keep_a_working_kubeconfig(tmp_path):
    ca_pem = tls.ensure_certificates(tmp_path / "tls").ca_pem()
    first = kubeconfig.ensure_demo_access(tmp_path, SERVER, ca_pem)
    text = first.kubeconfig.read_text()
    again = kubeconfig.ensure_demo_access(tmp_path, SERVER, ca_pem)
    assert not again.token_created
    assert again.kubeconfig.read_text() == text
    assert ApiToken.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        pytest.param("new database", id="its token no longer exists"),
        pytest.param("other port", id="the server moved"),
        pytest.param("deleted", id="the file is gone"),
    ],
)
def test_a_kubeconfig_that_no_longer_works_is_written_again(tmp_path, change):
    ca_pem = tls.ensure_certificates(tmp_path / "tls").ca_pem()
    first = kubeconfig.ensure_demo_access(tmp_path, SERVER, ca_pem)
    old_token = token_in(first.kubeconfig)
    server = SERVER
    if change == "new database":
        ApiToken.objects.all().delete()
    elif change == "other port":
        server = "https://127.0.0.1:9443"
    else:
        first.kubeconfig.unlink()
    again = kubeconfig.ensure_demo_access(tmp_path, server, ca_pem)
    assert again.token_created
    new_token = token_in(again.kubeconfig)
    assert new_token != old_token
    assert access.token_user(new_token).username == "admin"


@pytest.mark.django_db
def test_an_existing_admin_keeps_its_password(tmp_path):
    User.objects.create_superuser("admin", password="chosen-by-the-teacher")
    made = kubeconfig.ensure_demo_access(tmp_path, SERVER, b"ca")
    assert made.password_file is None
    assert not (tmp_path / "admin-password").exists()
    assert User.objects.get(username="admin").check_password("chosen-by-the-teacher")
    lines = kubeconfig.instructions(made, SERVER, True, tmp_path)
    assert "sign in:   admin, with the password you gave it" in lines


def test_instructions_name_the_kubeconfig_relative_to_the_working_directory(tmp_path):
    made = kubeconfig.DemoAccess(
        tmp_path / ".kubarium" / "kubeconfig",
        "admin",
        tmp_path / ".kubarium" / "admin-password",
        True,
    )
    lines = kubeconfig.instructions(made, SERVER, True, tmp_path)
    assert lines[0] == "kubectl:   KUBECONFIG=.kubarium/kubeconfig kubectl get nodes"
    assert "password in .kubarium/admin-password" in lines[2]
    assert "KUBARIUM_ANONYMOUS_READ=1" in lines[3]
    assert len(kubeconfig.instructions(made, SERVER, False, tmp_path)) == 3


# --- manage.py up -------------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_up_serves_https_and_writes_a_kubeconfig_kubectl_uses(
    test_database_url, tmp_path, wait_for
):
    """manage.py up (access control on, as in the demo) serves the API over HTTPS, writes
    the kubeconfig and says how to use it; kubectl then works with it, and the dashboard is
    open read-only."""
    port = find_free_port()
    https_port = find_free_port()
    state = tmp_path / "state"
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env |= {
        "PORT": str(port),
        "HTTPS_PORT": str(https_port),
        "DATABASE_URL": test_database_url,
        "KUBARIUM_STATE_DIR": str(state),
        "KUBARIUM_AUTHORIZATION_MODE": "RBAC",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("KUBARIUM_ANONYMOUS_READ", None)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "up", "--concurrency", "1"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = OutputReader(process.stdout)
    try:
        wait_for(
            lambda: process.poll() is not None or output.find("dashboard: anyone may look"),
            timeout=120,
        )
        config = state / "kubeconfig"
        assert output.find(f"KUBECONFIG={config} kubectl get nodes"), output.text
        assert output.find(f"https://127.0.0.1:{https_port}"), output.text
        assert output.find(f"password in {state / 'admin-password'}"), output.text
        assert (state / "tls" / "ca.crt").exists()

        home = tmp_path / "home"
        home.mkdir()
        runner = KubectlWithConfig(config, home)
        nodes = runner("get", "nodes")
        assert nodes.returncode == 0 and "No resources found" in nodes.stderr + nodes.stdout
        created = runner("create", "namespace", "class-1")
        assert created.stdout.strip() == "namespace/class-1 created"

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as page:
            assert page.status == 200  # anonymous read is on in the demo
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    finally:
        stop_gracefully(process)
    output.join(timeout=10)
    assert process.returncode == 0, output.text
    assert port_is_free(port) and port_is_free(https_port)
