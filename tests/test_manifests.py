"""Manifests: apply is all-or-nothing, and every kind of bad input gets a clear error."""

from __future__ import annotations

import base64
import textwrap

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from cluster import manifests
from cluster.models import Change, ConfigMap, Deployment
from cluster.store import read, write
from cluster.store.read import current_revision
from tests.builders import deployment

pytestmark = pytest.mark.django_db


def apply_text(text: str) -> list[manifests.Outcome]:
    return manifests.apply(manifests.load_text(textwrap.dedent(text), "test.yaml"))


def problems_of(text: str) -> list[str]:
    before = current_revision()
    with pytest.raises(manifests.ManifestError) as raised:
        apply_text(text)
    assert current_revision() == before, "a failed apply must write nothing"
    return [str(p) for p in raised.value.problems]


DEPLOY = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: %(replicas)s
  selector: {matchLabels: {app: %(selector)s}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: main
        image: nginx
        resources: {requests: {cpu: "%(cpu)s"}}
"""


def deploy(replicas="2", selector="web", cpu="100m") -> str:
    return DEPLOY % {"replicas": replicas, "selector": selector, "cpu": cpu}


def service_with_port(port) -> str:
    return f"""
    apiVersion: v1
    kind: Service
    metadata: {{name: web}}
    spec:
      selector: {{app: web}}
      ports: [{{port: {port}, targetPort: 8080}}]
    """


def ingress_with_port(port: str) -> str:
    return f"""
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {{name: shop}}
    spec:
      rules:
      - host: shop.example.com
        http:
          paths:
          - path: /
            pathType: Prefix
            backend: {{service: {{name: web, port: {port}}}}}
    """


BAD_INPUTS = [
    pytest.param("kind: [unclosed\n", "invalid YAML at line", id="invalid YAML"),
    pytest.param("apiVersion: v1\nmetadata: {name: x}\n", "Object 'Kind' is missing", id="no kind"),
    pytest.param(
        "kind: ConfigMap\nmetadata: {name: x}\n",
        "Object 'apiVersion' is missing",
        id="no apiVersion",
    ),
    pytest.param(
        "apiVersion: v1\nkind: Frobnicator\nmetadata: {name: x}\n",
        'no matches for kind "Frobnicator" in version "v1"',
        id="unknown kind",
    ),
    pytest.param(
        "apiVersion: apps/v2\nkind: Deployment\nmetadata: {name: x}\n",
        'no matches for kind "Deployment" in version "apps/v2"',
        id="unknown apiVersion",
    ),
    pytest.param(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n",
        'metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain',
        id="invalid name",
    ),
    pytest.param(
        deploy(replicas="-1"),
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        id="negative replicas",
    ),
    pytest.param(
        deploy(selector="other"),
        "`selector` does not match template `labels`",
        id="selector does not match template",
    ),
    pytest.param(
        deploy(cpu="lots"),
        'spec.template.spec.containers[0].resources.requests.cpu: Invalid value: "lots"',
        id="malformed quantity",
    ),
    pytest.param(
        service_with_port(0),
        "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        id="service port 0",
    ),
    pytest.param(
        service_with_port(70000),
        "spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
        id="service port 70000",
    ),
    pytest.param(
        ingress_with_port("{number: http}"),
        "spec.rules[0].http.paths[0].backend.service.port",
        id="ingress port neither",
    ),
    pytest.param(
        ingress_with_port("{}"),
        "spec.rules[0].http.paths[0].backend.service.port",
        id="ingress port empty",
    ),
    pytest.param(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {password: 'not base64!'}\n",
        "data[password]: Invalid value",
        id="secret data not base64",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD_INPUTS)
def test_bad_input_is_refused_with_a_clear_error(text, expected):
    """Each bad manifest is refused whole, with an error naming the document and the field."""
    problems = problems_of(text)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith(("document 1", "test.yaml")) for p in problems), problems


def test_stale_resource_version_in_a_manifest_is_a_conflict():
    """Applying a manifest that carries an old resourceVersion is refused."""
    created = write.create(deployment("web"))
    write.patch("deployments", "default", "web", {"spec": {"replicas": 4}})
    stale = yaml.safe_dump({**created, "status": None})
    problems = problems_of(stale)
    assert any("the object has been modified" in p for p in problems)
    assert read.get("deployments", "default", "web")["spec"]["replicas"] == 4


def test_very_large_manifest_is_refused_before_parsing(settings):
    """A 10 MB manifest is refused with the size limit named; nothing is parsed or written."""
    big = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  blob: '"
        + "x" * (10 * 1024 * 1024)
        + "'\n"
    )
    with pytest.raises(manifests.ManifestError) as raised:
        manifests.load_text(big, "big.yaml")
    assert "Request entity too large: limit is 3145728" in str(raised.value)
    assert not ConfigMap.objects.filter(name="big").exists()


def test_apply_is_all_or_nothing_and_reports_every_problem():
    """One bad document stops the whole apply, and every bad document is reported."""
    text = textwrap.dedent("""
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: good}
    data: {a: "1"}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: Bad_Name}
    ---
    """) + textwrap.dedent(deploy(replicas="-5"))
    problems = problems_of(text)
    assert len(problems) == 2
    assert problems[0].startswith("document 2 (ConfigMap Bad_Name) in test.yaml: metadata.name")
    assert problems[1].startswith("document 3 (Deployment web) in test.yaml: spec.replicas")
    assert not ConfigMap.objects.filter(name="good").exists()


def test_apply_creates_then_is_unchanged_then_configured():
    """apply: created, then unchanged on the same file, then configured after an edit;
    a field dropped from the manifest is removed, fields set by the server are kept."""
    first = """
    apiVersion: v1
    kind: Service
    metadata: {name: web, labels: {tier: front, old: x}}
    spec:
      selector: {app: web}
      ports: [{port: 80, targetPort: 8080}]
    """
    assert [o.action for o in apply_text(first)] == ["created"]
    ip = read.get("services", "default", "web")["spec"]["clusterIP"]
    assert [o.action for o in apply_text(first)] == ["unchanged"]
    edited = first.replace(", old: x", "").replace("port: 80,", "port: 81,")
    assert [str(o) for o in apply_text(edited)] == ["service/web configured"]
    live = read.get("services", "default", "web")
    assert live["metadata"]["labels"] == {"tier": "front"}
    assert live["spec"]["ports"][0]["port"] == 81
    assert live["spec"]["clusterIP"] == ip


def test_namespace_and_its_objects_in_one_file():
    """A namespace created earlier in the same apply can hold later documents."""
    outcomes = apply_text("""
    apiVersion: v1
    kind: Namespace
    metadata: {name: shop}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: cfg, namespace: shop}
    """)
    assert [str(o) for o in outcomes] == ["namespace/shop created", "configmap/cfg created"]


def test_apply_command_prints_outcomes_and_errors(tmp_path, capsys):
    """manage.py apply -f prints kubectl-like lines and exits non-zero on bad input."""
    good = tmp_path / "good.yaml"
    good.write_text(textwrap.dedent(deploy()))
    call_command("apply", "-f", str(good))
    assert "deployment.apps/web created" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(textwrap.dedent(deploy(replicas="-1")))
    with pytest.raises(CommandError):
        call_command("apply", "-f", str(bad))
    assert "spec.replicas: Invalid value: -1" in capsys.readouterr().err
    assert Deployment.objects.get(name="web").replicas == 2


def test_delete_and_get_commands(tmp_path, capsys):
    """manage.py get shows objects as YAML; delete -f removes them."""
    path = tmp_path / "cm.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: '1'}\n")
    call_command("apply", "-f", str(path))
    assert "configmap/cfg created" in capsys.readouterr().out
    call_command("get", "configmap", "cfg", "-o", "yaml")
    shown = yaml.safe_load(capsys.readouterr().out)
    assert shown["data"] == {"a": "1"} and shown["kind"] == "ConfigMap"
    call_command("delete", "-f", str(path))
    assert 'configmaps "cfg" deleted' in capsys.readouterr().out
    assert not ConfigMap.objects.filter(name="cfg").exists()
    assert Change.objects.filter(kind="ConfigMap", name="cfg").last().type == "DELETED"


def test_secret_string_data_is_folded_into_data():
    """stringData is written into data as base64 and not stored itself."""
    apply_text("""
    apiVersion: v1
    kind: Secret
    metadata: {name: creds}
    stringData: {password: hunter2}
    """)
    secret = read.get("secrets", "default", "creds")
    assert secret["data"] == {"password": base64.b64encode(b"hunter2").decode()}
    assert "stringData" not in secret and secret["type"] == "Opaque"
