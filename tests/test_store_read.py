"""Reads: label and field selectors, pagination, and the change log for watches."""

from __future__ import annotations

import pytest

from cluster.store import read, write
from cluster.store.errors import BadRequest, Gone
from tests.builders import namespace, node, pod

pytestmark = pytest.mark.django_db


@pytest.fixture
def pods():
    write.create(namespace("shop"))
    write.create(node("worker-1"))
    specs = [
        ("web-1", "default", {"app": "web", "tier": "front"}, "worker-1"),
        ("web-2", "default", {"app": "web", "tier": "front"}, None),
        ("api-1", "default", {"app": "api", "tier": "back"}, "worker-1"),
        ("db-1", "shop", {"app": "db"}, None),
        ("plain", "shop", {}, None),
    ]
    for name, ns, labels, node_name in specs:
        write.create(pod(name, ns, labels=labels, node=node_name))


def names(result) -> list[str]:
    items = result.items if hasattr(result, "items") else result
    return [f"{o['metadata']['namespace']}/{o['metadata']['name']}" for o in items]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        pytest.param(
            "",
            ["default/api-1", "default/web-1", "default/web-2", "shop/db-1", "shop/plain"],
            id="no selector: everything in key order",
        ),
        pytest.param("app=web", ["default/web-1", "default/web-2"], id="equals"),
        pytest.param("app==web", ["default/web-1", "default/web-2"], id="double equals"),
        pytest.param(
            "app!=web",
            ["default/api-1", "shop/db-1", "shop/plain"],
            id="not equals matches objects without the key",
        ),
        pytest.param("app in (api,db)", ["default/api-1", "shop/db-1"], id="in"),
        pytest.param("app notin (web,api)", ["shop/db-1", "shop/plain"], id="notin"),
        pytest.param("tier", ["default/api-1", "default/web-1", "default/web-2"], id="exists"),
        pytest.param("!tier", ["shop/db-1", "shop/plain"], id="does not exist"),
        pytest.param("app=web,tier=front", ["default/web-1", "default/web-2"], id="and"),
        pytest.param("app=web,tier=back", [], id="and with no match"),
    ],
)
def test_label_selectors(pods, selector, expected):
    """Label selectors follow Kubernetes semantics across all namespaces."""
    assert names(read.list_objects("pods", None, selector)) == expected


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        pytest.param("spec.nodeName=worker-1", ["default/api-1", "default/web-1"], id="node"),
        pytest.param(
            "spec.nodeName=", ["default/web-2", "shop/db-1", "shop/plain"], id="unscheduled"
        ),
        pytest.param("metadata.name=db-1", ["shop/db-1"], id="name"),
        pytest.param("metadata.namespace!=default", ["shop/db-1", "shop/plain"], id="namespace !="),
        pytest.param(
            "status.phase=Pending,spec.nodeName!=worker-1",
            ["default/web-2", "shop/db-1", "shop/plain"],
            id="phase and node",
        ),
        pytest.param(
            "spec.restartPolicy=Always",
            ["default/api-1", "default/web-1", "default/web-2", "shop/db-1", "shop/plain"],
            id="a field without a column",
        ),
    ],
)
def test_field_selectors(pods, selector, expected):
    """Field selectors filter on the pod's node, name, namespace and phase."""
    assert names(read.list_objects("pods", None, field_selector=selector)) == expected


def test_unknown_field_selector_is_a_bad_request(pods):
    """Only supported fields may be selected on, as in Kubernetes."""
    with pytest.raises(BadRequest) as raised:
        read.list_objects("pods", None, field_selector="spec.color=blue")
    assert str(raised.value) == "field label not supported: spec.color"


def test_bad_label_selector_is_a_bad_request(pods):
    with pytest.raises(BadRequest):
        read.list_objects("pods", None, "app in (web")


def test_namespace_scopes_the_list(pods):
    assert names(read.list_objects("pods", "shop")) == ["shop/db-1", "shop/plain"]


def test_limit_and_continue_page_through_everything(pods):
    """limit/continue pages keep key order and end with an empty continue token."""
    first = read.list_objects("pods", None, limit=2)
    assert names(first) == ["default/api-1", "default/web-1"] and first.continue_token
    second = read.list_objects("pods", None, limit=2, continue_token=first.continue_token)
    assert names(second) == ["default/web-2", "shop/db-1"]
    third = read.list_objects("pods", None, limit=2, continue_token=second.continue_token)
    assert names(third) == ["shop/plain"] and third.continue_token == ""
    assert second.resource_version == first.resource_version


def test_changes_since_replays_in_order(pods):
    """The change log from a revision onward is what a watch replays."""
    start = read.current_revision()
    write.patch("pods", "default", "web-1", {"metadata": {"labels": {"x": "y"}}})
    write.delete("pods", "shop", "plain")
    changes = read.changes_since(start)
    assert [(c.type, c.name) for c in changes] == [("MODIFIED", "web-1"), ("DELETED", "plain")]
    assert read.changes_since(start, kind_names=["Deployment"]) == []


def test_changes_since_a_compacted_revision_is_gone(pods):
    """Asking for history the log no longer has is 410 Expired."""
    from cluster.models import Change

    newest = read.current_revision()
    Change.objects.filter(revision__lt=newest - 2).delete()
    with pytest.raises(Gone):
        read.changes_since(1)
    assert len(read.changes_since(newest - 3)) == 3
