"""Why a pod is Pending, in Kubernetes' words and in plain words.

:func:`failed_scheduling_message` gives the exact text of the ``FailedScheduling`` event (and
of the ``PodScheduled=False`` condition) that kube-scheduler 1.32 writes, ``FitError.Error()``::

    0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: },
    3 Insufficient cpu. preemption: 0/4 nodes are available: 1 Preemption is not helpful for
    scheduling, 3 No preemption victims found for incoming pod.

(one line). The parts: ``0/N nodes are available:``; then either the PreFilter message or the
histogram of filter reasons, each ``"<count> <reason>"``, sorted as strings (so ``"10 ..."``
comes before ``"2 ..."``, as Go's ``sort.Strings`` puts them), joined with ", " and closed with a
period; then the preemption PostFilter's message. Since 1.30 the preemption part adds no second
period (1.29 and earlier printed ``...incoming pod..``). The preemption part is included because
``kubectl describe pod`` on a 1.32 cluster shows it; Kubarium computes its verdict without
evicting anything (see ``framework._post_filter``).

:func:`plain_language` is the dashboard's one-sentence explanation, translated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.utils.translation import gettext, ngettext

from cluster.quantity import format_cpu_millis

if TYPE_CHECKING:
    from .framework import Diagnosis
    from .snapshot import PodInfo, Snapshot

__all__ = [
    "NO_NODES_AVAILABLE",
    "event_message",
    "failed_scheduling_message",
    "fit_error_message",
    "plain_language",
]

NO_NODES_AVAILABLE = "no nodes available to schedule pods"
NOTE_LENGTH_LIMIT = 1024  # validation.NoteLengthLimit: the longest event message


def fit_error_message(
    num_all_nodes: int,
    reason_counts: Mapping[str, int],
    pre_filter_msg: str = "",
    post_filter_msg: str = "",
) -> str:
    """``FitError.Error()`` from its parts.

    >>> fit_error_message(3, {"Insufficient cpu": 2, "node(s) were unschedulable": 1})
    '0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu.'
    >>> fit_error_message(3, {}, pre_filter_msg="pod affinity terms conflict")
    '0/3 nodes are available: pod affinity terms conflict.'
    """
    message = f"0/{num_all_nodes} nodes are available:"
    if pre_filter_msg:
        message += f" {pre_filter_msg}."
    else:
        histogram = sorted(f"{count} {reason}" for reason, count in reason_counts.items())
        if histogram:
            message += " " + ", ".join(histogram) + "."
    if post_filter_msg:
        message += f" {post_filter_msg}"
    return message


def failed_scheduling_message(total_nodes: int, diagnosis: Diagnosis) -> str:
    """The FailedScheduling message for a pod the framework could not place.

    With no nodes at all it is ``no nodes available to schedule pods`` (``ErrNoNodesAvailable``).
    """
    if total_nodes == 0:
        return NO_NODES_AVAILABLE
    return fit_error_message(
        total_nodes,
        {} if diagnosis.pre_filter_msg else diagnosis.reason_counts(total_nodes),
        diagnosis.pre_filter_msg,
        diagnosis.post_filter_msg,
    )


def event_message(message: str) -> str:
    """Cut a message to an event's 1024-byte limit the way the scheduler does (``" ..."``).

    The PodScheduled condition keeps the whole message; only the event is truncated.
    """
    data = message.encode()
    if len(data) <= NOTE_LENGTH_LIMIT:
        return message
    suffix = " ..."
    return data[: NOTE_LENGTH_LIMIT - len(suffix)].decode(errors="ignore") + suffix


# ---------------------------------------------------------------------------- plain words


def _human_bytes(count: int) -> str:
    """Memory for people: exact binary units when short (``512Mi``), else rounded (``1.4Gi``)."""
    count = max(count, 0)
    for suffix, size in (("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if count >= size:
            if count % size == 0:
                return f"{count // size}{suffix}"
            return f"{count / size:.1f}{suffix}"
    return str(count)


def _largest_free(snapshot: Snapshot, names: list[str], attribute: str) -> tuple[int, str]:
    best, where = -1, ""
    for name in names:
        node = snapshot.get(name)
        if node is None:
            continue
        free = getattr(node, attribute)
        if free > best:
            best, where = free, name
    return max(best, 0), where


def plain_language(pod: PodInfo, diagnosis: Diagnosis, snapshot: Snapshot) -> str:
    """One sentence for the dashboard: where the pod went, or what stands in its way.

    Examples: "Scheduled on worker-1, the best of 3 suitable nodes." and "Pending: no node has
    500m cpu free; the largest free is 350m on worker-2." Resource shortfalls are worked out
    from ``snapshot`` as it is when this is called.
    """
    if diagnosis.selected is not None:
        feasible = len(diagnosis.feasible_nodes)
        if feasible <= 1:
            return gettext("Scheduled on %(node)s, the only suitable node examined.") % {
                "node": diagnosis.selected
            }
        return ngettext(
            "Scheduled on %(node)s, the best of %(count)d suitable node.",
            "Scheduled on %(node)s, the best of %(count)d suitable nodes.",
            feasible,
        ) % {"node": diagnosis.selected, "count": feasible}
    if diagnosis.num_all_nodes == 0:
        return gettext("Pending: the cluster has no nodes.")
    if diagnosis.pre_filter_status is not None:
        return gettext("Pending: the pod's node affinity pins it to nodes that cannot all match.")

    clauses: list[str] = []
    by_reason: dict[str, list[str]] = {}
    for name, status in diagnosis.node_statuses.items():
        for reason in status.reasons:
            by_reason.setdefault(reason, []).append(name)

    cpu_short = by_reason.pop("Insufficient cpu", [])
    memory_short = by_reason.pop("Insufficient memory", [])
    if cpu_short:
        free, where = _largest_free(snapshot, cpu_short, "free_cpu")
        clauses.append(
            gettext("no node has %(request)s cpu free; the largest free is %(free)s on %(node)s")
            % {
                "request": format_cpu_millis(pod.cpu),
                "free": format_cpu_millis(free),
                "node": where,
            }
        )
    if memory_short:
        free, where = _largest_free(snapshot, memory_short, "free_memory")
        clauses.append(
            gettext("no node has %(request)s memory free; the largest free is %(free)s on %(node)s")
            % {"request": _human_bytes(pod.memory), "free": _human_bytes(free), "node": where}
        )
    for reason, names in sorted(by_reason.items(), key=lambda item: -len(item[1])):
        clauses.append(_reason_clause(reason, len(names), pod))
    absent = diagnosis.num_all_nodes - len(diagnosis.node_statuses)
    if diagnosis.absent_status is not None and absent > 0:
        clauses.append(
            ngettext(
                "%(count)d node is not one the pod's node affinity names",
                "%(count)d nodes are not ones the pod's node affinity names",
                absent,
            )
            % {"count": absent}
        )
    if diagnosis.preemption_candidates:
        clauses.append(
            gettext("evicting lower-priority pods on %(node)s would make room")
            % {"node": diagnosis.preemption_candidates[0]}
        )
    if not clauses:
        return gettext("Pending: no node is suitable.")
    return gettext("Pending: %(reasons)s.") % {"reasons": "; ".join(clauses)}


def _reason_clause(reason: str, count: int, pod: PodInfo) -> str:
    if reason == "node(s) were unschedulable":
        return ngettext("%(count)d node is cordoned", "%(count)d nodes are cordoned", count) % {
            "count": count
        }
    if reason == "node(s) didn't match the requested node name":
        return gettext("the pod asks for node %(node)s") % {"node": pod.node_name}
    if reason == "node(s) didn't match Pod's node affinity/selector":
        return ngettext(
            "%(count)d node does not match the pod's node selector or affinity",
            "%(count)d nodes do not match the pod's node selector or affinity",
            count,
        ) % {"count": count}
    if reason == "Too many pods":
        return ngettext(
            "%(count)d node already runs as many pods as it allows",
            "%(count)d nodes already run as many pods as they allow",
            count,
        ) % {"count": count}
    if reason.startswith("node(s) had untolerated taint "):
        taint = reason.removeprefix("node(s) had untolerated taint ")
        return ngettext(
            "%(count)d node has the taint %(taint)s, which the pod does not tolerate",
            "%(count)d nodes have the taint %(taint)s, which the pod does not tolerate",
            count,
        ) % {"count": count, "taint": taint}
    return f"{count} {reason}"
