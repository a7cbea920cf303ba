"""The store's JSONField: orjson where it can, Django's json where orjson cannot."""

from __future__ import annotations

import json

import pytest

from cluster.models import ConfigMap, PodRuntime
from cluster.store import read, write
from tests.builders import configmap, pod

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "data",
    [
        {"greeting": "你好, wörld", "nested": {"list": [1, 2.5, True, None, "x"]}},
        {"huge": 2**70 + 1, "negative": -(2**65) - 3},  # beyond orjson's 64 bits: json
        {"1": "string keys only, as JSON has"},
        [],
        {},
    ],
    ids=["unicode-and-nesting", "big-integers", "digit-keys", "empty-list", "empty-dict"],
)
def test_values_come_back_as_they_were_stored(data):
    PodRuntime.objects.create(
        pod_uid="00000000-0000-0000-0000-000000000001", node_name="n", data=data
    )
    stored = PodRuntime.objects.get(node_name="n").data
    assert stored == data
    # the same types too (an int stays an int; PostgreSQL's jsonb orders keys its own way)
    assert json.dumps(stored, sort_keys=True) == json.dumps(data, sort_keys=True)


def test_lookups_into_json_keep_working():
    """Key lookups (labels, spec fields) still go through Django's SQL."""
    write.create(pod("a", labels={"app": "web", "tier": "front"}))
    write.create(pod("b", labels={"app": "db"}))
    write.create(configmap("cfg"))
    from cluster.models import Pod

    assert list(Pod.objects.filter(labels__app="web").values_list("name", flat=True)) == ["a"]
    assert list(Pod.objects.filter(labels__has_key="tier").values_list("name", flat=True)) == ["a"]
    assert ConfigMap.objects.filter(name="cfg").exists()
    assert read.get("pods", "default", "a")["metadata"]["labels"] == {"app": "web", "tier": "front"}
