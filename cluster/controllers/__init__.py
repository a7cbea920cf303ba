"""Kubarium's kube-controller-manager: one pure planner per controller.

Each planner takes the desired object and what was observed (plus ``now``) and returns a
:class:`~cluster.controllers.actions.Plan`; reconcile tasks read the store, call the planner
and apply the plan through the store's write path. Nothing here touches the database.

=================  =========================================================  ===============
controller         planner                                                    module
=================  =========================================================  ===============
ReplicaSet         ``plan_replicaset(rs, pods, now)``                         replicaset
Deployment         ``plan_deployment(deploy, replicasets, pods, now)``        deployment
StatefulSet        ``plan_statefulset(sts, pods, pvcs, now)``                 statefulset
DaemonSet          ``plan_daemonset(ds, nodes, pods, now)``                   daemonset
Endpoints          ``plan_endpoints(service, pods) -> dict | None``           endpoints
HPA                ``plan_hpa(hpa, scale, usage, requests, now, history)``    hpa
=================  =========================================================  ===============
"""

from cluster.controllers.actions import Create, Delete, Event, Patch, Plan, UpdateStatus
from cluster.controllers.daemonset import plan_daemonset
from cluster.controllers.deployment import plan_deployment
from cluster.controllers.endpoints import plan_endpoints
from cluster.controllers.hpa import HpaHistory, HpaPlan, plan_hpa
from cluster.controllers.replicaset import plan_replicaset
from cluster.controllers.statefulset import plan_statefulset

__all__ = [
    "Create",
    "Delete",
    "Event",
    "HpaHistory",
    "HpaPlan",
    "Patch",
    "Plan",
    "UpdateStatus",
    "plan_daemonset",
    "plan_deployment",
    "plan_endpoints",
    "plan_hpa",
    "plan_replicaset",
    "plan_statefulset",
]
