"""What the dashboard's action forms do: every one a plain function over the one write path.

Each function takes what a person typed (already parsed by :func:`parse_int` and friends where
that can fail) and an ``actor`` naming the user (``dashboard:alice``, what the change log and
the Architecture page's captions show). Validation is the store's: a bad value comes back as
the store's ``Invalid`` with Kubernetes' field errors, which :class:`ActionError` sorts next to
the form's fields (``spec.replicas: Invalid value: -1: must be greater than or equal to 0``).
Functions that write several objects (apply, drain) run in one transaction: nothing is
half-applied.

Who may do what is :data:`ACTIONS`' verb and resource, checked by the views with
``cluster.access.allows``.
"""

from __future__ import annotations

import copy
import ipaddress
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cluster import manifests
from cluster.controllers.podutil import POD_TEMPLATE_HASH_LABEL
from cluster.kubelet import runner
from cluster.models import Node, Pod, ReplicaSet
from cluster.store import kinds, read, write
from cluster.store.errors import FieldError, Invalid, StoreError
from cluster.store.kinds import Kind, get_path

Obj = dict[str, Any]

ACTOR_PREFIX = "dashboard:"
REVISION = "deployment.kubernetes.io/revision"
ZONE_LABEL = "topology.kubernetes.io/zone"
# Annotations ``kubectl rollout undo`` does not copy from the ReplicaSet back to the Deployment.
ROLLBACK_SKIPPED_ANNOTATIONS = frozenset(
    {
        manifests.LAST_APPLIED,
        REVISION,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)


def actor_of(user) -> str:
    """Who the change log names for a dashboard write: ``dashboard:<username>``."""
    return ACTOR_PREFIX + (user.get_username() if user.is_authenticated else "anonymous")


# --- errors sorted by form field ----------------------------------------------------------


@dataclass
class ActionError(Exception):
    """An action that did nothing: messages by form field ("" for the form as a whole)."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    status: int = 422

    @classmethod
    def on(cls, form_field: str, message: str, status: int = 422) -> ActionError:
        return cls({form_field: [message]}, status)

    @classmethod
    def from_store(cls, error: StoreError, fields: Mapping[str, Iterable[str]]) -> ActionError:
        """Sort a store error's field errors by form field: a field error whose path ends with
        one of a form field's suffixes goes there, the rest to the whole form."""
        if not isinstance(error, Invalid):
            return cls({"": [error.message]}, error.code)
        sorted_errors: dict[str, list[str]] = {}
        for problem in error.errors:
            target = next(
                (
                    name
                    for name, suffixes in fields.items()
                    if any(problem.field.endswith(s) for s in suffixes)
                ),
                "",
            )
            sorted_errors.setdefault(target, []).append(str(problem))
        return cls(sorted_errors, error.code)

    def __str__(self) -> str:
        return "; ".join(m for messages in self.errors.values() for m in messages)


def parse_int(raw: str, path: str, form_field: str) -> int:
    text = (raw or "").strip()
    try:
        return int(text)
    except ValueError:
        raise ActionError.on(
            form_field, str(FieldError.invalid(path, text, "must be an integer"))
        ) from None


# --- the actions a page offers ------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """An action of the detail page: its URL slug, the kinds it applies to, the Kubernetes verb
    and resource it needs, and whether it asks for confirmation first."""

    slug: str
    kinds: tuple[str, ...]
    verb: str
    subresource: str = ""
    destructive: bool = False
    label: str | Promise = ""

    def resource(self, kind: Kind) -> str:
        return f"{kind.plural}/{self.subresource}" if self.subresource else kind.plural


ACTIONS: dict[str, Action] = {
    a.slug: a
    for a in (
        Action(
            "scale",
            ("Deployment", "ReplicaSet", "StatefulSet"),
            "patch",
            "scale",
            label=gettext_lazy("Scale"),
        ),
        Action(
            "image",
            ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"),
            "patch",
            label=gettext_lazy("Change image"),
        ),
        Action("rollback", ("Deployment",), "patch", label=gettext_lazy("Roll back")),
        Action("delete", ("Pod",), "delete", destructive=True, label=gettext_lazy("Delete")),
        Action("cordon", ("Node",), "patch", label=gettext_lazy("Cordon")),
        Action("uncordon", ("Node",), "patch", label=gettext_lazy("Uncordon")),
        Action("drain", ("Node",), "patch", destructive=True, label=gettext_lazy("Drain")),
        Action(
            "kubelet-stop",
            ("Node",),
            "patch",
            destructive=True,
            label=gettext_lazy("Stop kubelet"),
        ),
        Action("kubelet-start", ("Node",), "patch", label=gettext_lazy("Start kubelet")),
    )
}


def actions_for(kind: Kind) -> list[Action]:
    return [a for a in ACTIONS.values() if kind.kind in a.kinds]


# --- workloads ----------------------------------------------------------------------------


def workload_scale(kind: Kind, namespace: str, name: str, replicas: int, *, actor: str) -> Obj:
    """Set ``spec.replicas`` (what ``kubectl scale`` does through ``/scale``)."""

    def change(current: Obj) -> Obj:
        current.setdefault("spec", {})["replicas"] = replicas
        return current

    try:
        return write.mutate(kind, namespace, name, change, actor=actor)
    except StoreError as error:
        raise ActionError.from_store(error, {"replicas": ("spec.replicas",)}) from None


def pod_template(obj: Obj) -> Obj:
    template = get_path(obj, "spec.template")
    return template if isinstance(template, dict) else {}


def container_names(obj: Obj) -> list[str]:
    spec = pod_template(obj).get("spec") or {}
    return [
        str(c.get("name"))
        for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])
        if isinstance(c, dict) and c.get("name")
    ]


def workload_image_set(
    kind: Kind, namespace: str, name: str, container: str, image: str, *, actor: str
) -> Obj:
    """Change one container's image in the pod template (``kubectl set image``): for a
    Deployment this starts a rolling update."""

    def change(current: Obj) -> Obj:
        spec = pod_template(current).get("spec") or {}
        for section in ("containers", "initContainers"):
            for entry in spec.get(section) or []:
                if isinstance(entry, dict) and entry.get("name") == container:
                    entry["image"] = image
                    return current
        raise ActionError.on(
            "container", _('unable to find container named "%(name)s"') % {"name": container}
        )

    try:
        return write.mutate(kind, namespace, name, change, actor=actor)
    except StoreError as error:
        raise ActionError.from_store(
            error, {"image": (".image",), "container": (".name",)}
        ) from None


@dataclass(frozen=True)
class Revision:
    number: int
    replicaset: str
    images: str
    current: bool


def deployment_history(deployment: Obj) -> list[Revision]:
    """The Deployment's ReplicaSets by revision, newest first (``kubectl rollout history``)."""
    uid = deployment["metadata"]["uid"]
    current = str((deployment["metadata"].get("annotations") or {}).get(REVISION, ""))
    found = []
    rs_kind = kinds.by_kind("ReplicaSet")
    for row in ReplicaSet.objects.filter(controller_uid=uid):
        text = str((row.annotations or {}).get(REVISION, ""))
        if not text.isdigit():
            continue
        rs = read.get(rs_kind, row.namespace, row.name)
        containers = (pod_template(rs).get("spec") or {}).get("containers") or []
        images = ", ".join(str(c.get("image", "")) for c in containers if isinstance(c, dict))
        found.append(Revision(int(text), row.name, images, text == current))
    return sorted(found, key=lambda r: -r.number)


def _template_without_hash(template: Obj) -> Obj:
    clean = copy.deepcopy(template)
    labels = (clean.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(POD_TEMPLATE_HASH_LABEL, None)
    return clean


def deployment_rollback(namespace: str, name: str, to_revision: int, *, actor: str) -> str:
    """Roll a Deployment back as ``kubectl rollout undo [--to-revision=N]`` does: copy the pod
    template (and annotations) of the ReplicaSet of that revision (0: the previous one) back
    into the Deployment; its controller then rolls out to it. Returns kubectl's message."""
    deployment = read.get("Deployment", namespace, name)
    if get_path(deployment, "spec.paused"):
        raise ActionError.on(
            "",
            _(
                "you cannot rollback a paused deployment; resume it first with "
                "'kubectl rollout resume deployment/%(name)s' and try again"
            )
            % {"name": name},
        )
    history = deployment_history(deployment)
    if not history:
        raise ActionError.on(
            "revision", _('no rollout history found for deployment "%(name)s"') % {"name": name}
        )
    if to_revision == 0:
        if len(history) < 2:
            raise ActionError.on("revision", _("no last revision to roll back to"))
        wanted = history[1]
    else:
        wanted = next((r for r in history if r.number == to_revision), None)
        if wanted is None:
            raise ActionError.on(
                "revision",
                _("unable to find specified revision %(revision)d in history")
                % {"revision": to_revision},
            )
    rs = read.get("ReplicaSet", namespace, wanted.replicaset)
    template = _template_without_hash(pod_template(rs))
    if template == pod_template(deployment):
        return _(
            "deployment.apps/%(name)s skipped rollback (current template already matches "
            "revision %(revision)d)"
        ) % {"name": name, "revision": wanted.number}
    copied = {
        k: v
        for k, v in (rs["metadata"].get("annotations") or {}).items()
        if k not in ROLLBACK_SKIPPED_ANNOTATIONS
    }

    def change(current: Obj) -> Obj:
        current["spec"]["template"] = template
        if copied:
            annotations = current["metadata"].setdefault("annotations", {})
            annotations.update(copied)
        return current

    try:
        write.mutate("Deployment", namespace, name, change, actor=actor)
    except StoreError as error:
        raise ActionError.from_store(error, {}) from None
    return _("deployment.apps/%(name)s rolled back") % {"name": name}


# --- pods ---------------------------------------------------------------------------------


def pod_delete(namespace: str, name: str, *, actor: str) -> Obj:
    """Delete a Pod gracefully (``kubectl delete pod``): its kubelet stops it, then it goes."""
    try:
        return write.delete("Pod", namespace, name, actor=actor)
    except StoreError as error:
        raise ActionError.from_store(error, {}) from None


# --- nodes --------------------------------------------------------------------------------


def _set_unschedulable(name: str, value: bool, actor: str) -> Obj:
    # ``kubectl uncordon`` removes the field (omitempty) rather than writing false.
    body = {"spec": {"unschedulable": True if value else None}}
    try:
        return write.patch("Node", "", name, body, actor=actor)
    except StoreError as error:
        raise ActionError.from_store(error, {}) from None


def node_cordon(name: str, *, actor: str) -> Obj:
    """Mark the node unschedulable: new pods avoid it, running ones stay."""
    return _set_unschedulable(name, True, actor)


def node_uncordon(name: str, *, actor: str) -> Obj:
    return _set_unschedulable(name, False, actor)


def _daemonset_pod(pod: Obj) -> bool:
    return any(
        isinstance(ref, dict) and ref.get("controller") and ref.get("kind") == "DaemonSet"
        for ref in pod["metadata"].get("ownerReferences") or []
    )


@dataclass
class Drained:
    evicted: list[str]
    skipped: list[str]  # DaemonSet pods, as ``kubectl drain --ignore-daemonsets`` leaves them


def drain_plan(pods: Iterable[Obj]) -> Drained:
    """Which pods a drain evicts: every pod still running or waiting on the node, except
    DaemonSet pods (their controller would put them straight back) and pods already going."""
    plan = Drained([], [])
    for pod in pods:
        key = f"{pod['metadata'].get('namespace', '')}/{pod['metadata']['name']}"
        if pod["metadata"].get("deletionTimestamp"):
            continue
        if get_path(pod, "status.phase") in ("Succeeded", "Failed"):
            continue
        (plan.skipped if _daemonset_pod(pod) else plan.evicted).append(key)
    return plan


def node_pods(name: str) -> list[Obj]:
    pod_kind = kinds.by_kind("Pod")
    return [
        read.get(pod_kind, row.namespace, row.name)
        for row in Pod.objects.filter(node_name=name).order_by("namespace", "name")
    ]


def node_drain(name: str, *, actor: str) -> Drained:
    """Cordon the node and evict its pods (graceful deletes, as the eviction API does),
    leaving DaemonSet pods: ``kubectl drain --ignore-daemonsets``. All or nothing."""
    try:
        with transaction.atomic():
            node_cordon(name, actor=actor)
            plan = drain_plan(node_pods(name))
            for key in plan.evicted:
                namespace, pod_name = key.split("/", 1)
                write.delete("Pod", namespace, pod_name, actor=actor)
    except StoreError as error:
        raise ActionError.from_store(error, {}) from None
    return plan


def kubelet_stop(name: str, *, actor: str) -> Obj:
    """Stop the node's kubelet: heartbeats stop, the node goes Unknown after its grace
    period and its pods are evicted by the node lifecycle controller."""
    try:
        return runner.stop_kubelet(name, actor=actor)
    except StoreError as error:
        raise ActionError.from_store(error, {}) from None


def kubelet_start(name: str, *, actor: str) -> Obj:
    try:
        return runner.start_kubelet(name, actor=actor)
    except StoreError as error:
        raise ActionError.from_store(error, {}) from None


def parse_labels(text: str) -> dict[str, str]:
    """``app=web, tier=front`` (commas or new lines) into a dict; the store validates keys and
    values."""
    labels: dict[str, str] = {}
    for part in (text or "").replace("\n", ",").split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise ActionError.on(
                "labels", str(FieldError.invalid("metadata.labels", part, "expected key=value"))
            )
        labels[key.strip()] = value.strip()
    return labels


def free_pod_cidr() -> str:
    """The first ``10.244.N.0/24`` no node has (the demo cluster's layout)."""
    used = set(Node.objects.values_list("pod_cidr", flat=True))
    for index in range(256):
        cidr = f"10.244.{index}.0/24"
        if cidr not in used:
            return cidr
    # More than 256 nodes: carry on in 10.245.0.0/16 and beyond.
    base = ipaddress.ip_network("10.245.0.0/16")
    for subnet in base.subnets(new_prefix=24):
        if str(subnet) not in used:
            return str(subnet)
    raise ActionError.on("", _("no free pod CIDR left"))


def node_manifest(name: str, cpu: str, memory: str, zone: str, labels: Mapping[str, str]) -> Obj:
    """A Node as a kubelet registers it: the usual well-known labels, a pod CIDR, capacity
    (``pods: 110``) and allocatable equal to capacity."""
    all_labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node-role.kubernetes.io/worker": "",
    }
    if zone:
        all_labels[ZONE_LABEL] = zone
    all_labels.update(labels)
    cidr = free_pod_cidr()
    capacity = {"cpu": cpu, "memory": memory, "pods": "110"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": all_labels},
        "spec": {"podCIDR": cidr, "podCIDRs": [cidr]},
        "status": {"capacity": capacity, "allocatable": dict(capacity)},
    }


NODE_FIELDS = {
    "name": ("metadata.name",),
    "cpu": (".cpu",),
    "memory": (".memory",),
    "labels": ("metadata.labels",),
}


def node_add(
    name: str, cpu: str, memory: str, zone: str, labels: Mapping[str, str], *, actor: str
) -> Obj:
    """Register a new node; its kubelet starts with the next tick of the control plane."""
    obj = node_manifest(name.strip(), cpu.strip(), memory.strip(), zone.strip(), labels)
    try:
        return write.create(obj, actor=actor)
    except StoreError as error:
        sorted_error = ActionError.from_store(error, NODE_FIELDS)
        # A bad zone is a bad label: say so next to the zone field.
        label_errors = sorted_error.errors.pop("labels", [])
        for message in label_errors:
            about_zone = ZONE_LABEL in message or f": {json.dumps(zone.strip())}:" in message
            target = "zone" if zone and about_zone else "labels"
            sorted_error.errors.setdefault(target, []).append(message)
        raise sorted_error from None


# --- apply --------------------------------------------------------------------------------


@dataclass
class Applied:
    outcomes: list[manifests.Outcome]


def manifest_documents(text: str | bytes, source: str) -> list[manifests.Document]:
    try:
        documents = manifests.load_text(text, source)
    except manifests.ManifestError as error:
        raise ActionError({"manifest": [str(p) for p in error.problems]}) from None
    if not documents:
        raise ActionError.on("manifest", _("The manifest has no objects."))
    return documents


def manifest_apply(documents: list[manifests.Document], *, actor: str) -> list[manifests.Outcome]:
    """Apply every document (``kubectl apply``), all or nothing; problems by document."""
    try:
        return manifests.apply(documents, actor=actor)
    except manifests.ManifestError as error:
        raise ActionError({"manifest": [str(p) for p in error.problems]}) from None
