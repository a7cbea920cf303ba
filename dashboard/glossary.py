"""A glossary of the concepts a class meets, and what common event reasons mean.

Both are shown in the reader's language: the glossary as tooltips on the Architecture view (the
``term`` template tag, ``dashboard/templatetags/glossary.py``) and as a list under it; the
explanations of event reasons beside events on the Events page and on object pages (the
``reason_help`` filter). Kubernetes' own names (Pod, kubelet, ``ImagePullBackOff``) stay as
Kubernetes writes them; only the explanations are translated.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Term:
    key: str  # how templates name it (lower case)
    name: str  # as Kubernetes writes it
    definition: Promise


TERMS: tuple[Term, ...] = (
    Term(
        "pod",
        "Pod",
        _(
            "The smallest thing Kubernetes runs: one or more containers that share a network address and storage, placed together on one node."
        ),
    ),
    Term(
        "node",
        "Node",
        _(
            "A machine (real or virtual) that runs pods. Its kubelet reports its capacity and health to the control plane."
        ),
    ),
    Term(
        "service",
        "Service",
        _(
            "A stable name and virtual IP in front of a changing set of pods chosen by labels; kube-proxy spreads requests over the ready ones."
        ),
    ),
    Term(
        "ingress",
        "Ingress",
        _(
            "Rules that route HTTP requests from outside the cluster, by host name and path, to Services; it can also terminate TLS."
        ),
    ),
    Term(
        "configmap",
        "ConfigMap",
        _(
            "Configuration kept outside the image as keys and values, given to pods as environment variables or files."
        ),
    ),
    Term(
        "secret",
        "Secret",
        _(
            "Like a ConfigMap, for passwords, tokens and keys. The values are only base64-encoded, so who may read them must be controlled."
        ),
    ),
    Term(
        "volume",
        "Volume",
        _(
            "A directory a pod's containers can use; depending on its type it lives as long as the pod or longer."
        ),
    ),
    Term(
        "persistentvolumeclaim",
        "PersistentVolumeClaim",
        _(
            "A pod's request for storage (size, access mode, class); Kubernetes binds it to a PersistentVolume that fits."
        ),
    ),
    Term(
        "persistentvolume",
        "PersistentVolume",
        _(
            "A piece of storage in the cluster, made by an administrator or provisioned on demand by a StorageClass; it outlives the pods using it."
        ),
    ),
    Term(
        "deployment",
        "Deployment",
        _(
            "Keeps a number of identical pods running and changes them by rolling updates, through ReplicaSets; it can roll back."
        ),
    ),
    Term(
        "replicaset",
        "ReplicaSet",
        _(
            "Makes sure a given number of pods with a given template exist, creating or deleting pods as needed."
        ),
    ),
    Term(
        "statefulset",
        "StatefulSet",
        _(
            "Runs pods with stable names (web-0, web-1…) and their own storage, started and stopped in order."
        ),
    ),
    Term(
        "daemonset",
        "DaemonSet",
        _(
            "Runs one copy of a pod on every node (or every matching node), such as a log collector."
        ),
    ),
    Term(
        "horizontalpodautoscaler",
        "HorizontalPodAutoscaler",
        _(
            "Changes a workload's number of replicas to keep a measured load, such as CPU use, near a target."
        ),
    ),
    Term(
        "kube-apiserver",
        "kube-apiserver",
        _(
            "The front door of the control plane: every read and write, from kubectl or from a component, goes through it; it checks and stores them in etcd."
        ),
    ),
    Term(
        "etcd",
        "etcd",
        _(
            "The consistent key-value store where the cluster keeps all its objects; every change gets a new revision."
        ),
    ),
    Term(
        "kube-scheduler",
        "kube-scheduler",
        _(
            "Picks a node for each new pod: it filters out nodes that cannot run it, scores the rest, and binds the pod to the best."
        ),
    ),
    Term(
        "kube-controller-manager",
        "kube-controller-manager",
        _(
            "Runs the controllers (Deployment, ReplicaSet, Node, Endpoints…) that keep changing the cluster until it matches what was asked."
        ),
    ),
    Term(
        "cloud-controller-manager",
        "cloud-controller-manager",
        _(
            "The controllers that talk to a cloud provider: load balancers for Services, routes, and nodes that disappear."
        ),
    ),
    Term(
        "kubelet",
        "kubelet",
        _(
            "The agent on every node: it starts the pods scheduled there through the container runtime, watches their health and reports their status."
        ),
    ),
    Term(
        "kube-proxy",
        "kube-proxy",
        _(
            "Runs on every node and programs the network so that a Service's address reaches one of its ready pods."
        ),
    ),
    Term(
        "container-runtime",
        "container runtime",
        _(
            "The software that actually runs containers on a node (containerd, CRI-O), on the kubelet's orders."
        ),
    ),
)
BY_KEY = {term.key: term for term in TERMS}
# Names used on pages for the same concept.
ALIASES = {
    "scheduler": "kube-scheduler",
    "default-scheduler": "kube-scheduler",
    "controller-manager": "kube-controller-manager",
    "apiserver": "kube-apiserver",
    "hpa": "horizontalpodautoscaler",
    "pvc": "persistentvolumeclaim",
    "pv": "persistentvolume",
    "runtime": "container-runtime",
    "container runtime": "container-runtime",
    "containerd": "container-runtime",
}


def term(key: str) -> Term | None:
    key = (key or "").strip().lower()
    return BY_KEY.get(ALIASES.get(key, key))


REASONS: dict[str, Promise] = {
    "Scheduled": _("The scheduler chose a node for the pod and bound it there."),
    "FailedScheduling": _(
        "No node can run the pod now (not enough free cpu or memory, taints, selectors); it waits in the queue and is tried again."
    ),
    "Pulling": _("The kubelet is downloading the container's image."),
    "Pulled": _("The image is on the node; the container can be created."),
    "ErrImagePull": _(
        "The image could not be downloaded: a wrong name or tag, or a registry that refuses."
    ),
    "ImagePullBackOff": _(
        "After failed pulls the kubelet waits longer and longer before trying the image again."
    ),
    "Failed": _("A step of starting the container failed; the message says which."),
    "Created": _("The kubelet created the container."),
    "Started": _("The container's process is running."),
    "BackOff": _(
        "The container keeps exiting; the kubelet waits longer and longer before restarting it (CrashLoopBackOff)."
    ),
    "Killing": _(
        "The kubelet is stopping the container: the pod is deleted, replaced or failed its liveness probe."
    ),
    "OOMKilled": _("The container used more memory than its limit and was killed."),
    "Unhealthy": _("A liveness or readiness probe failed."),
    "SuccessfulCreate": _("A controller created a pod (or another object) it owns."),
    "SuccessfulDelete": _("A controller deleted a pod it owns, for example when scaling down."),
    "ScalingReplicaSet": _(
        "The Deployment controller changed a ReplicaSet's replica count, during a rollout or a scale."
    ),
    "SuccessfulRescale": _("The autoscaler changed the number of replicas to follow the load."),
    "CreateContainerConfigError": _(
        "The container cannot be configured: a ConfigMap, Secret or key it refers to is missing."
    ),
    "NodeReady": _("The node's kubelet reports it healthy: pods may run there."),
    "NodeNotReady": _(
        "The node is not healthy or its kubelet stopped reporting; its pods will be evicted after a grace period."
    ),
    "RegisteredNode": _("A new node joined the cluster."),
    "NodeSchedulable": _("The node was uncordoned: new pods may be placed there again."),
    "NodeNotSchedulable": _("The node was cordoned: no new pods are placed there."),
    "Evicted": _(
        "The pod was removed from its node (drain, node failure or pressure); its controller makes a replacement."
    ),
    "TaintManagerEviction": _(
        "The pod is removed because its node got a taint it does not tolerate (for example, the node is unreachable)."
    ),
    "SuccessfulAttachVolume": _("The volume was attached to the node."),
    "ProvisioningSucceeded": _("A StorageClass made a new PersistentVolume for the claim."),
    "EnsuringLoadBalancer": _(
        "The cloud-controller-manager is creating a load balancer for the Service."
    ),
}


def reason_help(reason: str) -> str:
    """The reader's-language explanation of an event reason, or "" when there is none."""
    text = REASONS.get(reason or "")
    return str(text) if text is not None else ""
