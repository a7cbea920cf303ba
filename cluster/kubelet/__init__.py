"""The simulated kubelet: pod lifecycle, node heartbeats, images, logs and resource usage.

Pure functions only; the Celery tasks that drive them on the simulation clock and write their
results through the store live elsewhere.
"""

from cluster.kubelet.lifecycle import (
    KUBELET_VERSION,
    Event,
    Faults,
    KubeletConfig,
    NodeView,
    PodStep,
    World,
    advance_pod,
    allocate_pod_ip,
    faults_for,
    node_heartbeat,
    pod_full_name,
)

__all__ = [
    "KUBELET_VERSION",
    "Event",
    "Faults",
    "KubeletConfig",
    "NodeView",
    "PodStep",
    "World",
    "advance_pod",
    "allocate_pod_ip",
    "faults_for",
    "node_heartbeat",
    "pod_full_name",
]
