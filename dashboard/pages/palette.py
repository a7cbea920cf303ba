"""The failure palette (``/palette``): break the cluster on purpose, watch it respond, undo.

Every breakage is a plain write through the store (or a component switch, ``cluster.faults``),
so the cluster responds as it would to the real thing, and each one leaves a Kubernetes Event
naming the signed-in user (``dashboard:alice``):

=====================  ==========================================  ===========================
breakage               what it writes                              undo
=====================  ==========================================  ===========================
stop a node            ``kubarium.io/kubelet-stopped`` (the         start the kubelet
                       node detail page's "Stop kubelet")
stop a component       the switch in ``cluster.faults``            start it (it catches up)
unpullable image       the node annotation                         remove the image from it
                       ``kubarium.io/unpullable-images``, on one
                       node or on every node
crash                  ``kubarium.io/crash: "true"`` in a           remove it (the workload
                       workload's pod template (a rollout)          rolls back to its template)
exceed memory          ``kubarium.io/memory-usage`` twice the       remove it
                       containers' memory limit, in the template
fill a node            a pause Pod on the node requesting           delete the Pod
                       ``FILL_SHARE`` of its free cpu and memory
cordon, drain          ``spec.unschedulable`` (drain also evicts,   uncordon
                       as ``kubectl drain``)
=====================  ==========================================  ===========================

What is broken now is read from the cluster itself (``broken_now``), not from a list the
palette keeps, so a breakage undone elsewhere (``kubectl uncordon``) leaves the list, and one
made elsewhere (``kubectl cordon``) joins it. Who broke it is remembered in one
``ControllerMemory`` row (``palette:who``).

Who may: the verb and resource the write needs (``cluster.access``): ``patch nodes`` for the
node breakages (admins), ``patch`` the workload for crash and memory, ``create pods`` for
filling a node, and a cluster-wide editor or admin role for the component switches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from cluster import access, clock, faults
from cluster.api import auth
from cluster.kubelet.runner import KUBELET_STOPPED, UNPULLABLE
from cluster.models import ControllerMemory, Node, Pod
from cluster.store import events, kinds, read, write
from cluster.store.errors import FieldError, StoreError
from cluster.store.kinds import get_path
from dashboard import broadcast
from dashboard.pages import actions, architecture, captions, chrome
from dashboard.pages.actions import ActionError

TEMPLATE = "dashboard/palette.html"
STREAM_PATH = "/ws/palette"
WHO_KEY = "palette:who"
CRASH = "kubarium.io/crash"
MEMORY_USAGE = "kubarium.io/memory-usage"
FILL_LABEL = "kubarium.io/palette"
FILL_IMAGE = "registry.k8s.io/pause:3.10"
# A filler takes this share of the node's free cpu and memory: what is left fits only small pods.
FILL_SHARE = 0.95
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")
REASON_INJECTED = "FailureInjected"
REASON_UNDONE = "FailureUndone"
ALL_NODES = "*"
SWITCHABLE = (faults.SCHEDULER, faults.CONTROLLER_MANAGER)


# --- what may be done -----------------------------------------------------------------------


def may_switch_components(user) -> bool:
    """Component switches affect everyone: an editor or admin role cluster-wide."""
    return access.may_run_the_cluster(user)


def may_break_nodes(user) -> bool:
    return access.allows(user, "patch", "nodes", None)


def _refuse_nodes(user) -> None:
    if not may_break_nodes(user):
        raise ActionError.on(
            "", auth.forbidden(_user(user), "patch", kinds.by_kind("Node"), None).message, 403
        )


def _refuse_components(user, message: str) -> None:
    """403 with ``message`` (what was refused) unless ``user`` may stop and start the control
    plane's components."""
    if not may_switch_components(user):
        raise ActionError.on("", message, 403)


def _node_names(where: str) -> list[str]:
    """The nodes an image breakage covers: all of them (``ALL_NODES``) or the one named (an
    ``ActionError`` if there is none, as ``_node``)."""
    if where == ALL_NODES:
        return list(Node.objects.order_by("name").values_list("name", flat=True))
    return [_node(where)["metadata"]["name"]]


def _refuse(user, verb: str, kind: kinds.Kind, namespace: str, name: str = "") -> None:
    resource = kind.plural
    if not access.allows(user, verb, resource, namespace or None, kind.group):
        message = auth.forbidden(_user(user), verb, kind, namespace or None, name).message
        raise ActionError.on("", message, 403)


def _user(user) -> str:
    return user.get_username() if user.is_authenticated else auth.ANONYMOUS


# --- what is broken now -----------------------------------------------------------------------


@dataclass
class Broken:
    """One breakage in the cluster now, with the id its Undo button posts."""

    id: str
    category: str  # "component", "node", "image", "workload", "fill"
    text: str
    by: str = ""
    at: str = ""
    link: str = ""


def _who() -> dict[str, dict[str, str]]:
    row = ControllerMemory.objects.filter(key=WHO_KEY).values_list("data", flat=True).first()
    return row or {}


def _remember(fault_id: str, actor: str, how: str = "") -> None:
    row, _created = ControllerMemory.objects.get_or_create(key=WHO_KEY)
    data = dict(row.data or {})
    data[fault_id] = {"by": actor, "at": clock.now_datetime().strftime("%H:%M:%S"), "how": how}
    row.data = data
    row.save(update_fields=["data"])


def _forget(fault_id: str) -> None:
    row = ControllerMemory.objects.filter(key=WHO_KEY).first()
    if row and fault_id in (row.data or {}):
        data = dict(row.data)
        del data[fault_id]
        row.data = data
        row.save(update_fields=["data"])


def _unpullable(annotations: dict[str, str] | None) -> list[str]:
    return [i for i in (annotations or {}).get(UNPULLABLE, "").split(",") if i]


def workload_id(kind: str, namespace: str, name: str) -> str:
    return f"{kind}/{namespace}/{name}"


def _workload_url(kind: str, namespace: str, name: str) -> str:
    return reverse("object-detail", args=[kinds.by_kind(kind).plural, namespace, name])


def broken_now() -> list[Broken]:
    """Everything the palette can undo, read from the cluster (a handful of queries)."""
    who = _who()
    found: list[Broken] = []
    for component, note in faults.stopped().items():
        found.append(
            Broken(
                f"component:{component}",
                "component",
                _("%(component)s is stopped") % {"component": component},
                note.get("by", ""),
                str(note.get("at", ""))[11:19],
            )
        )
    nodes = list(Node.objects.order_by("name").values_list("name", "annotations", "unschedulable"))
    everywhere = None
    for _name, notes, _cordoned in nodes:
        images = set(_unpullable(notes))
        everywhere = images if everywhere is None else everywhere & images
    everywhere = everywhere or set()
    for image in sorted(everywhere):
        found.append(
            Broken(
                f"image:{ALL_NODES}:{image}",
                "image",
                _("Image %(image)s cannot be pulled on any node") % {"image": image},
            )
        )
    for name, notes, cordoned in nodes:
        link = reverse("object-detail-cluster", args=["nodes", name])
        if (notes or {}).get(KUBELET_STOPPED) == "true":
            text = _("Node %(node)s: kubelet stopped (no heartbeats)") % {"node": name}
            found.append(Broken(f"kubelet:{name}", "node", text, link=link))
        if cordoned:
            text = _("Node %(node)s: cordoned") % {"node": name}
            if who.get(f"cordon:{name}", {}).get("how") == "drain":
                text = _("Node %(node)s: drained and cordoned") % {"node": name}
            found.append(Broken(f"cordon:{name}", "node", text, link=link))
        for image in _unpullable(notes):
            if image in everywhere:
                continue
            text = _("Image %(image)s cannot be pulled on node %(node)s") % {
                "image": image,
                "node": name,
            }
            found.append(Broken(f"image:{name}:{image}", "image", text, link=link))
    for kind_name in WORKLOAD_KINDS:
        model = kinds.by_kind(kind_name).model
        annotated = model.objects.filter(
            spec__template__metadata__annotations__has_any_keys=[CRASH, MEMORY_USAGE]
        ).order_by("namespace", "name")
        for row in annotated:
            if kind_name == "ReplicaSet" and any(
                r.get("controller") for r in row.owner_references or [] if isinstance(r, dict)
            ):
                continue  # its Deployment's template says so: listed there
            notes = get_path(row.spec or {}, "template.metadata.annotations") or {}
            target = workload_id(kind_name, row.namespace, row.name)
            link = _workload_url(kind_name, row.namespace, row.name)
            values = {"kind": kind_name, "object": f"{row.namespace}/{row.name}"}
            if str(notes.get(CRASH, "")).lower() == "true":
                text = _("%(kind)s %(object)s: its containers crash") % values
                found.append(Broken(f"crash:{target}", "workload", text, link=link))
            if MEMORY_USAGE in notes:
                values["memory"] = notes[MEMORY_USAGE]
                text = _("%(kind)s %(object)s: its containers use %(memory)s, over their limit")
                found.append(Broken(f"memory:{target}", "workload", text % values, link=link))
    fillers = Pod.objects.filter(labels__has_key=FILL_LABEL).order_by("namespace", "name")
    for row in fillers:
        if (row.labels or {}).get(FILL_LABEL) != "fill":
            continue
        text = _("Pod %(object)s fills node %(node)s") % {
            "object": f"{row.namespace}/{row.name}",
            "node": row.node_name or "—",
        }
        link = reverse("object-detail", args=["pods", row.namespace, row.name])
        found.append(Broken(f"fill:{row.namespace}/{row.name}", "fill", text, link=link))
    for item in found:
        if not item.by and item.id in who:
            item.by, item.at = who[item.id].get("by", ""), who[item.id].get("at", "")
    return found


# --- breaking ---------------------------------------------------------------------------------


def _event(obj: dict[str, Any], reason: str, message: str, actor: str, warning: bool) -> None:
    events.record(obj, reason, message, type="Warning" if warning else "Normal", component=actor)


def _node(name: str) -> dict[str, Any]:
    if not name:
        raise ActionError.on("node", str(FieldError.required("metadata.name", "choose a node")))
    try:
        return read.get("Node", "", name)
    except StoreError as error:
        raise ActionError.on("node", error.message, error.code) from None


def _workload(target: str) -> tuple[kinds.Kind, dict[str, Any]]:
    kind_name, _sep, rest = target.partition("/")
    namespace, _sep, name = rest.partition("/")
    if kind_name not in WORKLOAD_KINDS or not namespace or not name:
        raise ActionError.on(
            "workload", str(FieldError.required("metadata.name", "choose a workload"))
        )
    kind = kinds.by_kind(kind_name)
    try:
        return kind, read.get(kind, namespace, name)
    except StoreError as error:
        raise ActionError.on("workload", error.message, error.code) from None


def _set_template_annotations(
    kind: kinds.Kind, obj: dict[str, Any], values: dict[str, str | None], actor: str
) -> dict[str, Any]:
    meta = obj["metadata"]
    body = {"spec": {"template": {"metadata": {"annotations": values}}}}
    try:
        return write.patch(kind, meta["namespace"], meta["name"], body, actor=actor)
    except StoreError as error:
        raise ActionError.from_store(error, {}) from None


def _memory_limits(obj: dict[str, Any]) -> list[int]:
    from cluster.quantity import QuantityError, memory_bytes

    limits = []
    for container in get_path(obj, "spec.template.spec.containers") or []:
        limit = get_path(container, "resources.limits.memory")
        if limit is None:
            continue
        try:
            limits.append(memory_bytes(str(limit)))
        except (QuantityError, ValueError):
            continue
    return limits


def _mi(value: int) -> str:
    """Bytes as a whole number of mebibytes, rounded up: 268435457 is ``257Mi``."""
    return f"{-(-value // (1024 * 1024))}Mi"


def free_on_node(name: str) -> tuple[int, int]:
    """A node's allocatable cpu (millicores) and memory (bytes) minus the requests of its
    non-terminated pods: what the scheduler's NodeResourcesFit sees as free."""
    node = Node.objects.get(name=name)
    used = architecture._usage([name]).get(name, architecture.Usage())
    return node.cpu_allocatable - used.cpu, node.memory_allocatable - used.memory


def filler_pod(node: str, namespace: str, cpu_free: int, memory_free: int, actor: str) -> dict:
    """A pause Pod bound to ``node`` asking for ``FILL_SHARE`` of what is free there.

    With 4000m and 8Gi free: ``4000 * 0.95 = 3800m`` cpu and ``8192Mi * 0.95 = 7782.4Mi``,
    rounded down to 8160437862 bytes; a pod asking for more than the 200m left then waits with
    ``Insufficient cpu``."""
    cpu = int(cpu_free * FILL_SHARE)
    memory = int(memory_free * FILL_SHARE)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": f"fill-{node[:40]}-",
            "namespace": namespace,
            "labels": {FILL_LABEL: "fill"},
            "annotations": {"kubarium.io/palette-by": actor},
        },
        "spec": {
            "nodeName": node,
            "containers": [
                {
                    "name": "fill",
                    "image": FILL_IMAGE,
                    "resources": {
                        "requests": {"cpu": f"{cpu}m", "memory": str(memory)},
                        "limits": {"cpu": f"{cpu}m", "memory": str(memory)},
                    },
                }
            ],
        },
    }


def _image(raw: str) -> str:
    image = (raw or "").strip()
    if not image or any(c in image for c in " ,\t\n"):
        raise ActionError.on(
            "image",
            str(
                FieldError.invalid(
                    "image", image, "must be one image reference, such as nginx:1.27"
                )
            ),
        )
    return image


def break_(what: str, form: dict[str, str], user) -> str:
    """Break something (``what``: one of the palette's forms); returns what was done, in words.
    Raises ``ActionError`` (422 for bad input, 403 for a refusal, 404 for a missing target)."""
    actor = actions.actor_of(user)
    if what == "component":
        component = form.get("component", "")
        if component not in SWITCHABLE:
            raise ActionError.on(
                "component", _("Choose kube-scheduler or kube-controller-manager.")
            )
        _refuse_components(
            user,
            _("Stopping %(component)s needs the editor or admin role for the whole cluster.")
            % {"component": component},
        )
        faults.stop(component, actor=actor)
        return _("%(component)s stopped.") % {"component": component}
    if what in ("node-stop", "cordon", "drain"):
        node = _node(form.get("node", ""))
        _refuse_nodes(user)
        name = node["metadata"]["name"]
        if what == "node-stop":
            actions.kubelet_stop(name, actor=actor)  # its KubeletStopped event names the actor
            _remember(f"kubelet:{name}", actor)
            return _("The kubelet of %(node)s stopped: no more heartbeats.") % {"node": name}
        if what == "cordon":
            node = actions.node_cordon(name, actor=actor)
            _event(
                node,
                REASON_INJECTED,
                f"Node {name} cordoned by {actor} (failure palette)",
                actor,
                True,
            )
            _remember(f"cordon:{name}", actor)
            return _("%(node)s cordoned: new pods avoid it.") % {"node": name}
        drained = actions.node_drain(name, actor=actor)
        message = (
            f"Node {name} drained by {actor} (failure palette): {len(drained.evicted)} pods evicted"
        )
        _event(read.get("Node", "", name), REASON_INJECTED, message, actor, True)
        _remember(f"cordon:{name}", actor, "drain")
        return _("%(node)s drained: %(n)s pods evicted.") % {
            "node": name,
            "n": len(drained.evicted),
        }
    if what == "image":
        image = _image(form.get("image", ""))
        where = form.get("node", "") or ALL_NODES
        _refuse_nodes(user)
        for name in _node_names(where):
            node = read.get("Node", "", name)
            images = _unpullable(node["metadata"].get("annotations"))
            if image not in images:
                patch = {"metadata": {"annotations": {UNPULLABLE: ",".join([*images, image])}}}
                node = write.patch("Node", "", name, patch, actor=actor)
            message = f"Image {image} made unpullable on node {name} by {actor} (failure palette)"
            _event(node, REASON_INJECTED, message, actor, True)
        _remember(f"image:{where}:{image}", actor)
        if where == ALL_NODES:
            return _("%(image)s cannot be pulled on any node now.") % {"image": image}
        return _("%(image)s cannot be pulled on %(node)s now.") % {"image": image, "node": where}
    if what in ("crash", "memory"):
        kind, obj = _workload(form.get("workload", ""))
        meta = obj["metadata"]
        _refuse(user, "patch", kind, meta["namespace"], meta["name"])
        target = workload_id(kind.kind, meta["namespace"], meta["name"])
        if what == "crash":
            obj = _set_template_annotations(kind, obj, {CRASH: "true"}, actor)
            message = f"Containers of {kind.kind} {meta['name']} made to crash by {actor} (failure palette)"
            _event(obj, REASON_INJECTED, message, actor, True)
            _remember(f"crash:{target}", actor)
            return _("The pods of %(object)s will crash: watch them restart and back off.") % {
                "object": meta["name"]
            }
        limits = _memory_limits(obj)
        if not limits:
            raise ActionError.on(
                "workload",
                str(
                    FieldError.required(
                        "spec.template.spec.containers[0].resources.limits.memory",
                        "a container needs a memory limit to exceed it",
                    )
                ),
            )
        usage = _mi(2 * max(limits))
        obj = _set_template_annotations(kind, obj, {MEMORY_USAGE: usage}, actor)
        message = f"Containers of {kind.kind} {meta['name']} made to use {usage} of memory, over their limit, by {actor} (failure palette)"
        _event(obj, REASON_INJECTED, message, actor, True)
        _remember(f"memory:{target}", actor)
        return _("The pods of %(object)s will use %(memory)s and be OOMKilled.") % {
            "object": meta["name"],
            "memory": usage,
        }
    if what == "fill":
        node = _node(form.get("node", ""))
        name = node["metadata"]["name"]
        namespace = form.get("namespace", "") or "default"
        _refuse(user, "create", kinds.by_kind("Pod"), namespace)
        cpu_free, memory_free = free_on_node(name)
        if cpu_free <= 0 or memory_free <= 0:
            raise ActionError.on(
                "node", _("Node %(node)s has no cpu or memory left to fill.") % {"node": name}
            )
        try:
            pod = write.create(
                filler_pod(name, namespace, cpu_free, memory_free, actor), actor=actor
            )
        except StoreError as error:
            raise ActionError.from_store(error, {"namespace": ("metadata.namespace",)}) from None
        requests = get_path(pod, "spec.containers")[0]["resources"]["requests"]
        message = f"Pod {pod['metadata']['name']} fills node {name} ({requests['cpu']} cpu, {requests['memory']} bytes of memory) for {actor} (failure palette)"
        _event(pod, REASON_INJECTED, message, actor, True)
        fault_id = f"fill:{namespace}/{pod['metadata']['name']}"
        _remember(fault_id, actor)
        return _("%(pod)s now requests most of %(node)s.") % {
            "pod": pod["metadata"]["name"],
            "node": name,
        }
    raise ActionError.on("", _("Unknown breakage."), 400)


def undo(fault_id: str, user) -> str:
    """Undo one breakage by its id (``Broken.id``); returns what was done, in words."""
    actor = actions.actor_of(user)
    category, _sep, target = fault_id.partition(":")
    if category == "component":
        if target not in faults.COMPONENTS:
            raise ActionError.on("", _("Unknown component."), 404)
        _refuse_components(
            user,
            _("Starting %(component)s needs the editor or admin role for the whole cluster.")
            % {"component": target},
        )
        faults.start(target, actor=actor)
        return _("%(component)s started: it catches up.") % {"component": target}
    if category in ("kubelet", "cordon"):
        node = _node(target)
        _refuse_nodes(user)
        if category == "kubelet":
            node = actions.kubelet_start(target, actor=actor)
            _event(
                node,
                REASON_UNDONE,
                f"Kubelet on node {target} started again by {actor} (failure palette)",
                actor,
                False,
            )
            _forget(fault_id)
            return _("The kubelet of %(node)s runs again.") % {"node": target}
        node = actions.node_uncordon(target, actor=actor)
        _event(
            node,
            REASON_UNDONE,
            f"Node {target} uncordoned by {actor} (failure palette)",
            actor,
            False,
        )
        _forget(fault_id)
        return _("%(node)s uncordoned: pods may be scheduled there again.") % {"node": target}
    if category == "image":
        where, _sep, image = target.partition(":")
        _refuse_nodes(user)
        for name in _node_names(where):
            node = read.get("Node", "", name)
            images = _unpullable(node["metadata"].get("annotations"))
            if image in images:
                rest = [i for i in images if i != image]
                patch = {"metadata": {"annotations": {UNPULLABLE: ",".join(rest) or None}}}
                node = write.patch("Node", "", name, patch, actor=actor)
                message = (
                    f"Image {image} pullable again on node {name}, by {actor} (failure palette)"
                )
                _event(node, REASON_UNDONE, message, actor, False)
        _forget(fault_id)
        return _("%(image)s can be pulled again.") % {"image": image}
    if category in ("crash", "memory"):
        kind, obj = _workload(target)
        meta = obj["metadata"]
        _refuse(user, "patch", kind, meta["namespace"], meta["name"])
        annotation = CRASH if category == "crash" else MEMORY_USAGE
        obj = _set_template_annotations(kind, obj, {annotation: None}, actor)
        what = "crash" if category == "crash" else "memory use"
        _event(
            obj,
            REASON_UNDONE,
            f"Injected {what} of {kind.kind} {meta['name']} removed by {actor} (failure palette)",
            actor,
            False,
        )
        _forget(fault_id)
        return _("%(object)s is healthy again: it rolls back to its template.") % {
            "object": meta["name"]
        }
    if category == "fill":
        namespace, _sep, name = target.partition("/")
        _refuse(user, "delete", kinds.by_kind("Pod"), namespace, name)
        try:
            pod = read.get("Pod", namespace, name)
            write.delete("Pod", namespace, name, actor=actor)
        except StoreError as error:
            raise ActionError.from_store(error, {}) from None
        node = pod["spec"].get("nodeName", "")
        _event(
            pod,
            REASON_UNDONE,
            f"Filler of node {node} removed by {actor} (failure palette)",
            actor,
            False,
        )
        _forget(fault_id)
        return _("%(pod)s deleted: %(node)s has room again.") % {"pod": name, "node": node}
    raise ActionError.on("", _("Unknown breakage."), 404)


# --- the page ---------------------------------------------------------------------------------


@dataclass
class ClusterNow:
    """A few numbers that show the cluster's response at a glance."""

    nodes: int = 0
    nodes_ready: int = 0
    pending: int = 0
    not_ready: int = 0


def cluster_now() -> ClusterNow:
    now = ClusterNow()
    for ready in Node.objects.values_list("ready", flat=True):
        now.nodes += 1
        now.nodes_ready += ready == "True"
    pods = Pod.objects.filter(deletion_timestamp__isnull=True).exclude(
        phase__in=("Succeeded", "Failed")
    )
    now.pending = pods.filter(node_name="").count()
    now.not_ready = pods.exclude(node_name="").filter(ready=False).count()
    return now


@dataclass(frozen=True)
class Focus:
    namespace: str = ""

    @classmethod
    def from_query(cls, query) -> Focus:
        return cls(architecture.Focus.from_query(query).namespace)


def region_context(focus: Focus) -> dict[str, Any]:
    from cluster.store.read import current_revision

    revision = current_revision()
    return {
        "focus": focus,
        "broken": broken_now(),
        "now": cluster_now(),
        "stream_url": f"{STREAM_PATH}?since={revision}",
        "components": [(c, c in faults.stopped()) for c in SWITCHABLE],
    }


def render_region(focus: Focus) -> str:
    return render_to_string(TEMPLATE + "#region", region_context(focus))


def render_update(focus: Focus, messages_: list[dict[str, Any]]) -> str:
    """Any change may mend or break something: the whole (small) region again."""
    notices, _nodes, _revision, _overflow = broadcast.decode(messages_)
    return render_region(focus) if notices or _overflow else ""


@dataclass
class Forms:
    """The choices the forms offer and what the user may do."""

    nodes: list[str] = field(default_factory=list)
    workloads: list[tuple[str, str]] = field(default_factory=list)  # (id, label)
    namespaces: list[str] = field(default_factory=list)
    may_nodes: bool = False
    may_components: bool = False
    may_workloads: bool = False
    may_fill: bool = False


def forms_for(user, namespace: str) -> Forms:
    forms = Forms(
        nodes=list(Node.objects.order_by("name").values_list("name", flat=True)),
        namespaces=chrome.namespaces(),
        may_nodes=may_break_nodes(user),
        may_components=may_switch_components(user),
    )
    for kind_name in WORKLOAD_KINDS:
        kind = kinds.by_kind(kind_name)
        rows = kind.model.objects.order_by("namespace", "name")
        if namespace:
            rows = rows.filter(namespace=namespace)
        for ns, name, owners in rows.values_list("namespace", "name", "owner_references")[:200]:
            if any(isinstance(r, dict) and r.get("controller") for r in owners or []):
                continue
            if access.allows(user, "patch", kind.plural, ns, kind.group):
                forms.workloads.append(
                    (workload_id(kind_name, ns, name), f"{kind_name} {ns}/{name}")
                )
    forms.may_workloads = bool(forms.workloads)
    forms.may_fill = access.namespaces_where(user, "create", "pods") != frozenset()
    return forms


NODE_BREAKAGES = (
    (
        "node-stop",
        gettext_lazy("Stop or partition a node"),
        gettext_lazy(
            "Its kubelet stops (as if the machine lost power or its network): no heartbeats. After "
            "40 simulated seconds the node goes Unknown, is tainted unreachable, and its pods are "
            "evicted after their 300-second toleration and recreated elsewhere."
        ),
    ),
    (
        "cordon",
        gettext_lazy("Cordon a node"),
        gettext_lazy("New pods avoid it (SchedulingDisabled); the pods on it keep running."),
    ),
    (
        "drain",
        gettext_lazy("Drain a node"),
        gettext_lazy(
            "Cordon it and evict its pods (kubectl drain --ignore-daemonsets): their controllers "
            "recreate them on other nodes."
        ),
    ),
    (
        "fill",
        gettext_lazy("Fill a node"),
        gettext_lazy(
            "A pause pod on the node requests 95% of its free cpu and memory: the next pod that "
            "only fits there waits with Insufficient cpu or memory."
        ),
    ),
)
WORKLOAD_BREAKAGES = (
    (
        "crash",
        gettext_lazy("Make its containers crash"),
        gettext_lazy(
            "The pod template gets kubarium.io/crash: the new pods exit after 2 seconds, restart, "
            "and wait longer each time (CrashLoopBackOff); a Deployment's rollout stalls."
        ),
    ),
    (
        "memory",
        gettext_lazy("Make its containers exceed their memory"),
        gettext_lazy(
            "The containers use twice their memory limit and are OOMKilled (exit code 137), then "
            "back off. Needs a container with a memory limit."
        ),
    ),
)


def _page(request: HttpRequest, status: int = 200, **extra: Any) -> HttpResponse:
    focus = Focus.from_query(request.GET)
    errors = extra.pop("errors", {})
    context = {
        **chrome.chrome_context(focus.namespace),
        **region_context(focus),
        "forms": forms_for(request.user, focus.namespace),
        "node_breakages": NODE_BREAKAGES,
        "workload_breakages": WORKLOAD_BREAKAGES,
        "errors": errors,
        "page_errors": errors.get("", []),
        "page_name": "palette",
        **extra,
    }
    template = TEMPLATE
    if request.htmx and request.htmx.target == "palette":
        template += "#palette"
    return render(request, template, context, status=status)


@require_GET
def palette_page(request: HttpRequest) -> HttpResponse:
    """The palette: whoever may see the Architecture page may see what is broken; the forms
    are offered only to those who may use them."""
    return _page(request)


def _act(request: HttpRequest, run) -> HttpResponse:
    try:
        done = run()
    except ActionError as error:
        return _page(request, status=error.status, errors=error.errors, posted=request.POST)
    except StoreError as error:
        problem = ActionError.from_store(error, {})
        return _page(request, status=problem.status, errors=problem.errors, posted=request.POST)
    if request.htmx:
        return _page(request, done=done)
    messages.success(request, done)
    namespace = Focus.from_query(request.GET).namespace
    return HttpResponseRedirect(
        reverse("palette") + (f"?namespace={namespace}" if namespace else "")
    )


@require_POST
def palette_break(request: HttpRequest) -> HttpResponse:
    form = {
        k: request.POST.get(k, "") for k in ("component", "node", "image", "workload", "namespace")
    }
    return _act(request, lambda: break_(request.POST.get("what", ""), form, request.user))


@require_POST
def palette_undo(request: HttpRequest) -> HttpResponse:
    return _act(request, lambda: undo(request.POST.get("fault", ""), request.user))


# --- the Architecture page's components, when a switch moves ---------------------------------


def architecture_tick(focus: architecture.Focus, previous: Any) -> tuple[str, Any]:
    """Every second on the Architecture page's stream: its components again when one was
    stopped or started since the last look (a switch is not a write the page would see)."""
    if focus.at:
        return "", previous
    down = frozenset(faults.stopped())
    # The first look cannot know what the page was rendered with: a stopped component is sent.
    if down == (frozenset() if previous is None else previous):
        return "", down
    activities = captions.activities(architecture.recent_notices(focus.namespace))
    from cluster.store.read import current_revision

    views = architecture.control_plane(activities, False, current_revision(), stopped=down)
    html = "".join(
        render_to_string(architecture.TEMPLATE + "#component", {"component": c}) for c in views
    )
    return html, down
