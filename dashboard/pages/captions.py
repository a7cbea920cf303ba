"""Who did what: the control plane's components and a one-line caption for what each just did.

Every change in the log names its *actor*, the component or user that wrote it
(``default-scheduler``, ``replicaset-controller``, ``kubelet``, ``admin:alice``...). The
architecture page lights up the component that acted and shows the caption. The mapping follows
Kubernetes' own split of responsibilities: controllers run inside kube-controller-manager, the
service (load-balancer) controller inside cloud-controller-manager, and writes by anyone else are
people (or their tools) talking to kube-apiserver.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dashboard.broadcast import Notice

API_SERVER = "kube-apiserver"
ETCD = "etcd"
SCHEDULER = "kube-scheduler"
CONTROLLER_MANAGER = "kube-controller-manager"
CLOUD_CONTROLLER_MANAGER = "cloud-controller-manager"
KUBELET = "kubelet"


@dataclass(frozen=True)
class Component:
    key: str
    role: str | Promise


CONTROL_PLANE: tuple[Component, ...] = (
    Component(API_SERVER, gettext_lazy("Front door: checks and stores every write")),
    Component(ETCD, gettext_lazy("The cluster's memory: every object, every revision")),
    Component(SCHEDULER, gettext_lazy("Picks a node for each new pod")),
    Component(CONTROLLER_MANAGER, gettext_lazy("Controllers that make reality match the spec")),
    Component(CLOUD_CONTROLLER_MANAGER, gettext_lazy("Asks the cloud for load balancers")),
)

# Controllers that run in cloud-controller-manager rather than kube-controller-manager.
CLOUD_CONTROLLERS = frozenset(
    {"service-controller", "cloud-node-controller", "cloud-node-lifecycle-controller"}
)
# Records about an action rather than actions: they do not light anything up.
QUIET_KINDS = frozenset({"Event"})


def component_of(actor: str) -> str:
    """The component an actor belongs to: a control plane component's key, or ``kubelet``.

    >>> component_of("replicaset-controller"), component_of("admin:alice")
    ('kube-controller-manager', 'kube-apiserver')
    """
    if actor == "kubelet" or actor.startswith("kubelet:"):
        return KUBELET
    if actor.endswith("-scheduler"):
        return SCHEDULER
    if actor in CLOUD_CONTROLLERS:
        return CLOUD_CONTROLLER_MANAGER
    if actor.endswith("-controller") or actor in ("garbage-collector", "kube-controller-manager"):
        return CONTROLLER_MANAGER
    return API_SERVER


def object_name(notice: Notice) -> str:
    return f"{notice.namespace}/{notice.name}" if notice.namespace else notice.name


def caption(notice: Notice) -> str:
    """One line saying what the notice's actor did, in the words of the component that did it."""
    component = component_of(notice.actor)
    values = {
        "actor": notice.actor,
        "kind": notice.kind,
        "object": object_name(notice),
        "node": notice.node,
    }
    if component == SCHEDULER and notice.kind == "Pod":
        if notice.node:
            return _("%(actor)s bound %(object)s to %(node)s") % values
        return _("%(actor)s found no node for %(object)s") % values
    if component == API_SERVER:
        if notice.actor and notice.actor != API_SERVER:
            if notice.type == "DELETED":
                return _("kube-apiserver removed %(kind)s %(object)s for %(actor)s") % values
            return _("kube-apiserver accepted %(kind)s %(object)s from %(actor)s") % values
        if notice.type == "DELETED":
            return _("kube-apiserver removed %(kind)s %(object)s") % values
        return _("kube-apiserver accepted %(kind)s %(object)s") % values
    if notice.type == "ADDED":
        return _("%(actor)s created %(kind)s %(object)s") % values
    if notice.type == "DELETED":
        return _("%(actor)s deleted %(kind)s %(object)s") % values
    return _("%(actor)s updated %(kind)s %(object)s") % values


@dataclass(frozen=True)
class Activity:
    """What one component did in a batch: the latest caption and how many other writes."""

    component: str
    caption: str
    more: int = 0


def activities(notices: Iterable[Notice]) -> dict[str, Activity]:
    """Per control plane component, its latest action among ``notices`` (Events ignored).

    etcd stores every write, so it acts whenever anything does: its caption is the revision.
    Kubelets are not in the control plane and are left out (see ``kubelet_nodes``).
    """
    latest: dict[str, Notice] = {}
    counts: dict[str, int] = {}
    top = 0
    for notice in notices:
        top = max(top, notice.revision)
        if notice.kind in QUIET_KINDS:
            continue
        component = component_of(notice.actor)
        if component == KUBELET:
            continue
        counts[component] = counts.get(component, 0) + 1
        if component not in latest or notice.revision >= latest[component].revision:
            latest[component] = notice
    result = {
        component: Activity(component, caption(notice), counts[component] - 1)
        for component, notice in latest.items()
    }
    if top:
        result[ETCD] = Activity(ETCD, _("revision %(revision)s") % {"revision": top})
    return result


def kubelet_nodes(notices: Iterable[Notice]) -> set[str]:
    """The nodes whose kubelet wrote something among ``notices`` (its pods' status, its node)."""
    nodes: set[str] = set()
    for notice in notices:
        if component_of(notice.actor) != KUBELET:
            continue
        if notice.kind == "Pod" and notice.node:
            nodes.add(notice.node)
        elif notice.kind == "Node":
            nodes.add(notice.name)
    return nodes
