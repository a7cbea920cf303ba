"""The wait steps' conditions: what each one reads, and how it says what it waits for.

``check(step, namespace, since_revision)`` answers ``(holds, observed)``: whether the condition
holds now, and a short sentence of what the cluster shows (the player prints it while waiting,
and the failure message quotes it). ``describe(step, namespace)`` says what the step waits for.
Everything reads the store's rows (indexed columns first); the ``request`` condition sends one
request through kube-proxy's routing each time it is checked.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from cluster import clock, proxy, traffic
from cluster.models import Deployment, Endpoints, Event, HorizontalPodAutoscaler, Node, Pod
from cluster.store.selectors import parse_label_selector
from dashboard.lessons.format import Step


def _pods(namespace: str, params: dict[str, Any]) -> list[Pod]:
    rows = Pod.objects.filter(namespace=namespace).order_by("name")
    if params.get("pod"):
        rows = rows.filter(name=params["pod"])
    if params.get("node"):
        rows = rows.filter(node_name=params["node"])
    selector = parse_label_selector(params["selector"]) if params.get("selector") else None
    return [p for p in rows if selector is None or selector.matches(p.labels or {})]


def pod_reasons(pod: Pod) -> set[str]:
    """Every reason a Pod shows: its containers' waiting and terminated reasons, a false
    PodScheduled condition's reason (``Unschedulable``) and the pod's own (``Evicted``)."""
    status = pod.status or {}
    reasons = {status.get("reason")} if status.get("reason") else set()
    for section in ("initContainerStatuses", "containerStatuses"):
        for entry in status.get(section) or []:
            state = entry.get("state") or {}
            for key in ("waiting", "terminated"):
                if (state.get(key) or {}).get("reason"):
                    reasons.add(state[key]["reason"])
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            reasons.add(condition.get("reason") or "")
    return reasons - {""}


def _deployment_condition(namespace: str, name: str, kind: str) -> dict[str, Any] | None:
    row = Deployment.objects.filter(namespace=namespace, name=name).first()
    if row is None:
        return None
    for condition in (row.status or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return condition
    return {}


def _request(namespace: str, params: dict[str, Any]) -> proxy.Request:
    if params.get("service"):
        return proxy.Request(
            service=(namespace, params["service"]), port=params.get("port"), now=clock.now()
        )
    return proxy.Request(host=params.get("host"), path=params.get("path") or "/", now=clock.now())


def route_service(route: proxy.Route) -> str | None:
    """The name of the Service a routed request reached (its first kube-proxy hop names
    ``namespace/service:port``), None when it reached none."""
    for hop in route.hops:
        if hop.component == "kube-proxy" and "/" in hop.target:
            return hop.target.split("/", 1)[1].rsplit(":", 1)[0]
    return None


def _endpoint_counts(namespace: str, service: str) -> tuple[int, int]:
    """Ready and not-ready addresses of a Service's Endpoints (each pod once)."""
    row = Endpoints.objects.filter(namespace=namespace, name=service).first()
    ready: set[str] = set()
    not_ready: set[str] = set()
    for subset in (row.body or {}).get("subsets") or [] if row else []:
        for key, into in (("addresses", ready), ("notReadyAddresses", not_ready)):
            for address in subset.get(key) or []:
                into.add(address.get("ip", ""))
    return len(ready), len(not_ready - ready)


def check(step: Step, namespace: str, since_revision: int) -> tuple[bool, str]:
    """Whether the wait step's condition holds now, and what the cluster shows."""
    p = dict(step.params)
    name = step.condition
    if name == "podsReady":
        pods = [p_ for p_ in _pods(namespace, p) if p_.deletion_timestamp is None]
        ready = [pod for pod in pods if pod.ready and pod.phase == "Running"]
        observed = _("%(ready)d of %(total)d matching Pods ready") % {
            "ready": len(ready),
            "total": len(pods),
        }
        return len(ready) == p["count"], observed
    if name == "podPhase":
        pods = [pod for pod in _pods(namespace, p) if pod.deletion_timestamp is None]
        matching = [
            pod
            for pod in pods
            if (not p.get("phase") or pod.phase == p["phase"])
            and (not p.get("reason") or p["reason"] in pod_reasons(pod))
        ]
        shown = ", ".join(
            f"{pod.name}: {pod.phase}"
            + (f" ({', '.join(sorted(pod_reasons(pod)))})" if pod_reasons(pod) else "")
            for pod in pods[:4]
        )
        return len(matching) >= p.get("count", 1), shown or _("no matching Pod yet")
    if name in ("rolloutComplete", "progressDeadlineExceeded"):
        row = Deployment.objects.filter(namespace=namespace, name=p["deployment"]).first()
        if row is None:
            return False, _("no such Deployment yet")
        status = row.status or {}
        progressing = next(
            (c for c in status.get("conditions") or [] if c.get("type") == "Progressing"), {}
        )
        replicas = (row.spec or {}).get("replicas", 1)
        observed = _(
            "%(updated)d of %(replicas)d updated, %(available)d available; Progressing: %(reason)s"
        ) % {
            "updated": status.get("updatedReplicas", 0),
            "replicas": replicas,
            "available": status.get("availableReplicas", 0),
            "reason": progressing.get("reason") or "-",
        }
        if name == "progressDeadlineExceeded":
            return progressing.get("reason") == "ProgressDeadlineExceeded", observed
        complete = (
            status.get("observedGeneration", 0) >= row.generation
            and status.get("updatedReplicas", 0) == replicas
            and status.get("replicas", 0) == replicas
            and status.get("availableReplicas", 0) == replicas
        )
        return complete, observed
    if name == "event":
        # since: lesson counts every event in the namespace (recreated at each start).
        after = 0 if p.get("since") == "lesson" else since_revision
        rows = Event.objects.filter(
            namespace=namespace, reason=p["reason"], resource_version__gt=after
        )
        if p.get("kind"):
            rows = rows.filter(involved_kind=p["kind"])
        if p.get("name"):
            rows = rows.filter(involved_name=p["name"])
        wanted = p.get("count", 1)
        found = rows.count() if wanted > 1 else int(rows.exists())
        latest = rows.order_by("-resource_version").first()
        if latest is None:
            return False, _("no %(reason)s event yet") % {"reason": p["reason"]}
        message = (latest.body or {}).get("message", "")
        shown = f"{latest.involved_kind}/{latest.involved_name}: {latest.reason}: {message}"
        if wanted > 1:
            shown = _("%(found)d of %(count)d events; latest %(event)s") % {
                "found": found,
                "count": wanted,
                "event": shown,
            }
        return found >= wanted, shown
    if name in ("nodeReady", "nodeNotReady"):
        row = Node.objects.filter(name=p["node"]).first()
        ready = row.ready if row else "-"
        observed = _("%(node)s Ready=%(ready)s") % {"node": p["node"], "ready": ready}
        if row is None:
            return False, observed
        return (ready == "True") == (name == "nodeReady"), observed
    if name == "hpaReplicas":
        row = HorizontalPodAutoscaler.objects.filter(namespace=namespace, name=p["hpa"]).first()
        current = (row.status or {}).get("currentReplicas", 0) if row else 0
        observed = _("%(current)d replicas now") % {"current": current}
        return row is not None and current == p["replicas"], observed
    if name == "endpoints":
        ready, not_ready = _endpoint_counts(namespace, p["service"])
        observed = _("%(ready)d ready and %(not_ready)d not ready addresses") % {
            "ready": ready,
            "not_ready": not_ready,
        }
        holds = ready == p["ready"] and p.get("notReady", not_ready) == not_ready
        return holds, observed
    if name == "request":
        route = traffic.send(_request(namespace, p))
        served = "/".join(route.pod) if route.pod else (route.error or "-")
        holds = route.status == p["status"]
        if p.get("backend"):
            backend = route_service(route)
            holds = holds and backend == p["backend"]
            served = _("%(served)s (Service %(service)s)") % {
                "served": served,
                "service": backend or "-",
            }
        return holds, f"HTTP {route.status}: {served}"
    raise ValueError(f"unknown condition {name!r}")


def describe(step: Step, namespace: str) -> str:
    """What a wait step waits for, in the reader's language."""
    p = dict(step.params)
    name = step.condition
    if name == "podsReady":
        text = _("%(count)d Pods with %(selector)s ready") % {
            "count": p["count"],
            "selector": p["selector"],
        }
        if p.get("node"):
            text += " " + _("on %(node)s") % {"node": p["node"]}
        return text
    if name == "podPhase":
        who = p.get("pod") or p.get("selector")
        state = " ".join(x for x in (p.get("phase"), p.get("reason")) if x)
        return _("Pod %(who)s: %(state)s") % {"who": who, "state": state}
    if name == "rolloutComplete":
        return _("the rollout of Deployment %(name)s to complete") % {"name": p["deployment"]}
    if name == "progressDeadlineExceeded":
        return _("Deployment %(name)s to exceed its progress deadline") % {"name": p["deployment"]}
    if name == "event":
        about = "/".join(x for x in (p.get("kind"), p.get("name")) if x)
        if p.get("count", 1) > 1:
            return _("%(count)d events %(reason)s%(about)s") % {
                "count": p["count"],
                "reason": p["reason"],
                "about": f" ({about})" if about else "",
            }
        return _("an event %(reason)s%(about)s") % {
            "reason": p["reason"],
            "about": f" ({about})" if about else "",
        }
    if name == "nodeReady":
        return _("node %(node)s to be Ready") % {"node": p["node"]}
    if name == "nodeNotReady":
        return _("node %(node)s to stop being Ready") % {"node": p["node"]}
    if name == "hpaReplicas":
        return _("autoscaler %(name)s at %(replicas)d replicas") % {
            "name": p["hpa"],
            "replicas": p["replicas"],
        }
    if name == "endpoints":
        return _("the Endpoints of Service %(name)s to list %(ready)d ready addresses") % {
            "name": p["service"],
            "ready": p["ready"],
        }
    if name == "request":
        target = (
            f"{namespace}/{p['service']}"
            if p.get("service")
            else f"{p.get('host')}{p.get('path') or '/'}"
        )
        if p.get("backend"):
            return _("a request to %(target)s to answer %(status)d from Service %(service)s") % {
                "target": target,
                "status": p["status"],
                "service": p["backend"],
            }
        return _("a request to %(target)s to answer %(status)d") % {
            "target": target,
            "status": p["status"],
        }
    return name
