"""The node lifecycle controller against the store: whose heartbeat ages.

A running kubelet renews its Lease every 10 simulated seconds, without pause; the tick records
that only twice a real second, which at a fast clock is minutes of simulated time. So the
controller takes a running kubelet as alive now, and judges only a stopped kubelet by the last
heartbeat recorded.
"""

from __future__ import annotations

import pytest

from cluster import clock
from cluster.controllers.reconcile import reconcile_node_lifecycle
from cluster.kubelet.runner import KUBELET_STOPPED
from cluster.models import NodeHeartbeat
from cluster.store import read, write
from tests.builders import node

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_clock")]


def ready_status(name: str) -> str:
    conditions = read.get("Node", "", name)["status"].get("conditions") or []
    return next(c["status"] for c in conditions if c["type"] == "Ready")


@pytest.mark.parametrize(
    ("stopped", "expected"),
    [(False, "True"), (True, "Unknown")],
    ids=["running-kubelet-stays-ready", "stopped-kubelet-goes-unknown"],
)
def test_an_old_heartbeat_record_matters_only_for_a_stopped_kubelet(stopped, expected):
    obj = node("worker-1")
    obj["status"]["conditions"] = [
        {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "lastHeartbeatTime": "2025-01-01T00:00:00Z",
            "lastTransitionTime": "2025-01-01T00:00:00Z",
        }
    ]
    if stopped:
        obj["metadata"]["annotations"] = {KUBELET_STOPPED: "true"}
    write.create(obj)
    now = clock.now()
    NodeHeartbeat.objects.create(node_name="worker-1", sim_time=now - 600)  # ten minutes ago

    reconcile_node_lifecycle("worker-1")

    assert ready_status("worker-1") == expected
