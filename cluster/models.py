"""The cluster's objects as Django models: Kubarium's etcd.

Each Kubernetes kind is a model. The object itself is stored the way Kubernetes stores it, as its
metadata (real columns) plus ``spec``, ``status`` and any other top-level fields (``body``: a
ConfigMap's ``data``, an Event's ``reason``...) as JSON, so that a manifest round-trips without
losing a field. The fields that people query, filter and edit (a pod's node and phase, a
deployment's replicas and image, a service's type and cluster IP...) are *also* real, indexed
columns. Those columns are projections of the object, kept up to date by the one write path
(``cluster.store.write``) on every write, the way the real apiserver keeps field indexes beside
etcd: the object is the truth, the columns are how you find it. ``cluster.store.kinds`` says which
path each column projects.

Nothing here writes on its own: ``save()`` is called only by the write path, which also assigns
the revision and appends to the change log in the same transaction.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cluster.fields import JSONField


class Revision(models.Model):
    """The cluster-wide revision counter (etcd's revision): a single row.

    Every write increments it inside the writer's transaction, so revisions are assigned in
    commit order with no gaps: a rolled-back write rolls its increment back too.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("revision counter")

    def __str__(self) -> str:
        return str(self.value)


class Change(models.Model):
    """One row of the change log: what a write did, at which revision, and who did it.

    Watches (``kubectl get -w``), the live dashboard and time travel all read this log.
    """

    class Type(models.TextChoices):
        ADDED = "ADDED", _("added")
        MODIFIED = "MODIFIED", _("modified")
        DELETED = "DELETED", _("deleted")

    revision = models.BigIntegerField(primary_key=True)
    kind = models.CharField(max_length=64)
    namespace = models.CharField(max_length=63, blank=True, default="")
    name = models.CharField(max_length=253)
    uid = models.UUIDField()
    type = models.CharField(max_length=8, choices=Type.choices)
    object = JSONField()
    actor = models.CharField(max_length=253, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["revision"]
        indexes = [models.Index(fields=["kind", "revision"], name="change_kind_revision")]
        verbose_name = _("change")

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.revision} {self.type} {self.kind} {where}"


class KubeObject(models.Model):
    """Kubernetes ``ObjectMeta`` plus the object's content. Abstract: one table per kind."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=253)
    # "" for cluster-scoped kinds (Node, Namespace, PersistentVolume, StorageClass).
    namespace = models.CharField(_("namespace"), max_length=63, blank=True, default="")
    labels = JSONField(_("labels"), default=dict, blank=True)
    annotations = JSONField(_("annotations"), default=dict, blank=True)
    resource_version = models.BigIntegerField(_("resource version"), default=0, editable=False)
    generation = models.BigIntegerField(_("generation"), default=1, editable=False)
    creation_timestamp = models.DateTimeField(_("created"), editable=False)
    deletion_timestamp = models.DateTimeField(_("deletion requested"), null=True, blank=True)
    deletion_grace_period_seconds = models.BigIntegerField(null=True, blank=True)
    owner_references = JSONField(_("owner references"), default=list, blank=True)
    finalizers = JSONField(_("finalizers"), default=list, blank=True)
    # The uid of the ownerReference with controller=true, indexed (with the namespace, see
    # ``Meta.indexes``) for controllers and the GC.
    controller_uid = models.UUIDField(null=True, blank=True, editable=False)
    # Any other metadata a manifest carried (generateName, managedFields, ...), verbatim.
    extra_metadata = JSONField(default=dict, blank=True)
    spec = JSONField(_("spec"), default=dict, blank=True)
    status = JSONField(_("status"), default=dict, blank=True)
    # Top-level fields other than apiVersion, kind, metadata, spec and status.
    body = JSONField(default=dict, blank=True)

    class Meta:
        abstract = True
        ordering = ["namespace", "name"]
        # A controller lists what it owns by (controller uid, namespace), and the orphans it may
        # adopt by (NULL, namespace). With only the (namespace, name) index to choose from, SQLite
        # took that one and read every object of the namespace for each reconcile.
        indexes = [models.Index(fields=["controller_uid", "namespace"], name="%(class)s_owner")]
        constraints = [
            models.UniqueConstraint(
                fields=["namespace", "name"], name="%(app_label)s_%(class)s_unique_name"
            )
        ]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @property
    def is_terminating(self) -> bool:
        return self.deletion_timestamp is not None


class Namespace(KubeObject):
    phase = models.CharField(_("phase"), max_length=16, default="Active", db_index=True)

    class Meta(KubeObject.Meta):
        verbose_name = _("namespace")


class Node(KubeObject):
    unschedulable = models.BooleanField(_("unschedulable (cordoned)"), default=False)
    ready = models.CharField(_("ready"), max_length=8, default="Unknown", db_index=True)
    cpu_allocatable = models.BigIntegerField(_("allocatable cpu (millicores)"), default=0)
    memory_allocatable = models.BigIntegerField(_("allocatable memory (bytes)"), default=0)
    pods_allocatable = models.IntegerField(_("allocatable pods"), default=110)
    pod_cidr = models.CharField(_("pod CIDR"), max_length=43, blank=True, default="")

    class Meta(KubeObject.Meta):
        verbose_name = _("node")


class Pod(KubeObject):
    node_name = models.CharField(_("node"), max_length=253, blank=True, default="", db_index=True)
    phase = models.CharField(_("phase"), max_length=16, default="Pending", db_index=True)
    ready = models.BooleanField(_("ready"), default=False)
    image = models.CharField(_("image"), max_length=512, blank=True, default="")
    pod_ip = models.CharField(_("pod IP"), max_length=45, blank=True, default="")
    cpu_request = models.BigIntegerField(_("requested cpu (millicores)"), default=0)
    memory_request = models.BigIntegerField(_("requested memory (bytes)"), default=0)

    class Meta(KubeObject.Meta):
        verbose_name = _("pod")
        indexes = [
            *KubeObject.Meta.indexes,
            models.Index(fields=["node_name", "phase"], name="pod_node_phase"),
        ]


class Service(KubeObject):
    class Type(models.TextChoices):
        CLUSTER_IP = "ClusterIP", "ClusterIP"
        NODE_PORT = "NodePort", "NodePort"
        LOAD_BALANCER = "LoadBalancer", "LoadBalancer"
        EXTERNAL_NAME = "ExternalName", "ExternalName"

    type = models.CharField(_("type"), max_length=16, choices=Type.choices, default="ClusterIP")
    cluster_ip = models.CharField(_("cluster IP"), max_length=45, blank=True, default="")
    selector = JSONField(_("selector"), default=dict, blank=True)

    class Meta(KubeObject.Meta):
        verbose_name = _("service")


class Endpoints(KubeObject):
    class Meta(KubeObject.Meta):
        verbose_name = _("endpoints")
        verbose_name_plural = _("endpoints")


class Ingress(KubeObject):
    ingress_class_name = models.CharField(
        _("ingress class"), max_length=253, blank=True, default=""
    )

    class Meta(KubeObject.Meta):
        verbose_name = _("ingress")
        verbose_name_plural = _("ingresses")


class ConfigMap(KubeObject):
    class Meta(KubeObject.Meta):
        verbose_name = _("config map")


class Secret(KubeObject):
    type = models.CharField(_("type"), max_length=253, default="Opaque")

    class Meta(KubeObject.Meta):
        verbose_name = _("secret")


class PersistentVolume(KubeObject):
    capacity = models.BigIntegerField(_("capacity (bytes)"), default=0)
    storage_class_name = models.CharField(
        _("storage class"), max_length=253, blank=True, default=""
    )
    phase = models.CharField(_("phase"), max_length=16, default="Pending", db_index=True)
    claim_namespace = models.CharField(max_length=63, blank=True, default="")
    claim_name = models.CharField(_("claim"), max_length=253, blank=True, default="")

    class Meta(KubeObject.Meta):
        verbose_name = _("persistent volume")


class PersistentVolumeClaim(KubeObject):
    storage_class_name = models.CharField(
        _("storage class"), max_length=253, blank=True, default=""
    )
    volume_name = models.CharField(_("volume"), max_length=253, blank=True, default="")
    phase = models.CharField(_("phase"), max_length=16, default="Pending", db_index=True)
    requested = models.BigIntegerField(_("requested storage (bytes)"), default=0)

    class Meta(KubeObject.Meta):
        verbose_name = _("persistent volume claim")


class StorageClass(KubeObject):
    provisioner = models.CharField(_("provisioner"), max_length=253, default="")
    is_default = models.BooleanField(_("default"), default=False)

    class Meta(KubeObject.Meta):
        verbose_name = _("storage class")
        verbose_name_plural = _("storage classes")


class Deployment(KubeObject):
    replicas = models.IntegerField(_("replicas"), default=1)
    paused = models.BooleanField(_("paused"), default=False)
    image = models.CharField(_("image"), max_length=512, blank=True, default="")
    ready_replicas = models.IntegerField(_("ready"), default=0)
    available_replicas = models.IntegerField(_("available"), default=0)
    updated_replicas = models.IntegerField(_("up to date"), default=0)

    class Meta(KubeObject.Meta):
        verbose_name = _("deployment")


class ReplicaSet(KubeObject):
    replicas = models.IntegerField(_("replicas"), default=1)
    image = models.CharField(_("image"), max_length=512, blank=True, default="")
    ready_replicas = models.IntegerField(_("ready"), default=0)
    available_replicas = models.IntegerField(_("available"), default=0)

    class Meta(KubeObject.Meta):
        verbose_name = _("replica set")


class StatefulSet(KubeObject):
    replicas = models.IntegerField(_("replicas"), default=1)
    image = models.CharField(_("image"), max_length=512, blank=True, default="")
    service_name = models.CharField(_("service"), max_length=253, blank=True, default="")
    pod_management_policy = models.CharField(max_length=16, default="OrderedReady")
    ready_replicas = models.IntegerField(_("ready"), default=0)

    class Meta(KubeObject.Meta):
        verbose_name = _("stateful set")


class DaemonSet(KubeObject):
    image = models.CharField(_("image"), max_length=512, blank=True, default="")
    desired_number_scheduled = models.IntegerField(_("desired"), default=0)
    number_ready = models.IntegerField(_("ready"), default=0)

    class Meta(KubeObject.Meta):
        verbose_name = _("daemon set")


class HorizontalPodAutoscaler(KubeObject):
    scale_target_kind = models.CharField(_("target kind"), max_length=64, default="")
    scale_target_name = models.CharField(_("target"), max_length=253, default="")
    min_replicas = models.IntegerField(_("min replicas"), default=1)
    max_replicas = models.IntegerField(_("max replicas"), default=1)
    target_cpu_utilization = models.IntegerField(_("target cpu %"), null=True, blank=True)
    current_replicas = models.IntegerField(_("current replicas"), default=0)
    desired_replicas = models.IntegerField(_("desired replicas"), default=0)

    class Meta(KubeObject.Meta):
        verbose_name = _("horizontal pod autoscaler")


class Event(KubeObject):
    involved_kind = models.CharField(_("object kind"), max_length=64, default="", db_index=True)
    involved_namespace = models.CharField(max_length=63, blank=True, default="")
    involved_name = models.CharField(_("object"), max_length=253, default="", db_index=True)
    involved_uid = models.CharField(max_length=36, blank=True, default="")
    reason = models.CharField(_("reason"), max_length=128, blank=True, default="", db_index=True)
    type = models.CharField(_("type"), max_length=16, default="Normal")
    source_component = models.CharField(_("source"), max_length=253, blank=True, default="")
    count = models.IntegerField(_("count"), default=1)
    first_timestamp = models.DateTimeField(_("first seen"), null=True, blank=True)
    last_timestamp = models.DateTimeField(_("last seen"), null=True, blank=True, db_index=True)

    class Meta(KubeObject.Meta):
        verbose_name = _("event")
        # The recorder looks up the event to aggregate by object and reason.
        indexes = [
            *KubeObject.Meta.indexes,
            models.Index(fields=["namespace", "involved_uid", "reason"], name="event_aggregate"),
        ]


# --- control-plane state that is not a Kubernetes object ---------------------------------------


class Clock(models.Model):
    """The simulation clock (a single row): see ``cluster.simclock`` for the arithmetic."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    state = JSONField()

    class Meta:
        verbose_name = _("simulation clock")

    def __str__(self) -> str:
        return str(self.state)


class Timer(models.Model):
    """Work due at a simulated time: a kubelet to sync, a controller to re-check.

    ``key`` names the work (``kubelet:worker-1``, ``Deployment:shop/frontend``); the clock's
    tick enqueues what has come due, so pausing the clock holds all of it back.
    """

    key = models.CharField(max_length=400, primary_key=True)
    due = models.FloatField(db_index=True)

    class Meta:
        verbose_name = _("timer")

    def __str__(self) -> str:
        return f"{self.key} at {self.due:.1f}"


class SchedulingDecision(models.Model):
    """The scheduler's last decision for a pod: per node, the filter that failed or the scores."""

    pod_uid = models.UUIDField(primary_key=True)
    namespace = models.CharField(max_length=63)
    name = models.CharField(max_length=253)
    node_name = models.CharField(max_length=253, blank=True, default="")
    message = models.TextField(blank=True, default="")
    diagnosis = JSONField(default=dict)
    decided_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["namespace", "name"], name="decision_pod")]
        verbose_name = _("scheduling decision")

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name} -> {self.node_name or '-'}"


class PodRuntime(models.Model):
    """What a kubelet remembers about a pod between syncs (pull attempts, back-off, start
    times): in a real cluster this lives in the kubelet's memory, not in the API."""

    pod_uid = models.UUIDField(primary_key=True)
    node_name = models.CharField(max_length=253, db_index=True)
    data = JSONField(default=dict)
    # The pod's resourceVersion when the kubelet last synced it (after its own status write)
    # and the simulated time of its next transition then (None: nothing is due): a Running,
    # Ready pod unchanged since and with nothing due yet needs no sync (see kubelet.runner).
    observed_version = models.BigIntegerField(default=0)
    wake_at = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("pod runtime")

    def __str__(self) -> str:
        return f"{self.pod_uid} on {self.node_name}"


class NodeHeartbeat(models.Model):
    """A node's last kubelet heartbeat in simulated seconds (the Lease of kube-node-lease)."""

    node_name = models.CharField(max_length=253, primary_key=True)
    sim_time = models.FloatField()
    images = JSONField(default=list)

    class Meta:
        verbose_name = _("node heartbeat")

    def __str__(self) -> str:
        return f"{self.node_name} at {self.sim_time:.1f}"


class ControllerMemory(models.Model):
    """What a controller keeps between reconciles (an HPA's recent recommendations, kube-proxy's
    round-robin positions): in Kubernetes this lives in the controller's memory."""

    key = models.CharField(max_length=400, primary_key=True)
    data = JSONField(default=dict)

    class Meta:
        verbose_name = _("controller memory")

    def __str__(self) -> str:
        return self.key


class TrafficFlow(models.Model):
    """A steady load sent into the cluster: ``rps`` requests per second at an Ingress host and
    path, or at a Service. It drives the pods' simulated cpu (which the autoscaler reads) and the
    access lines in their logs."""

    namespace = models.CharField(_("namespace"), max_length=63, default="default")
    service = models.CharField(_("service"), max_length=253, blank=True, default="")
    host = models.CharField(_("host"), max_length=253, blank=True, default="")
    path = models.CharField(_("path"), max_length=1024, blank=True, default="/")
    rps = models.FloatField(_("requests per second"))
    started_by = models.CharField(max_length=253, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("traffic flow")

    def __str__(self) -> str:
        target = self.host + self.path if self.host else f"{self.namespace}/{self.service}"
        return f"{self.rps:g} req/s -> {target}"


# --- access: who may do what (``cluster.access``) -----------------------------------------------


class Role(models.TextChoices):
    """The three roles, after Kubernetes' built-in ``admin``, ``edit`` and ``view`` ClusterRoles
    (``cluster.access.role_allows`` says which verbs each grants)."""

    ADMIN = "admin", _("admin")
    EDITOR = "editor", _("editor")
    VIEWER = "viewer", _("viewer")


class RoleBinding(models.Model):
    """Grants a Django user a role, in one namespace or (namespace blank) in the whole cluster.

    Kubernetes' RoleBinding and ClusterRoleBinding in one row. Superusers need none: they are
    admins everywhere.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="role_bindings",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    namespace = models.CharField(
        _("namespace"),
        max_length=63,
        blank=True,
        default="",
        help_text=_("Leave blank to grant the role in every namespace and on the cluster."),
    )

    class Meta:
        ordering = ["user__username", "namespace", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "namespace", "role"], name="rolebinding_unique_grant"
            )
        ]
        verbose_name = _("role binding")

    def __str__(self) -> str:
        where = self.namespace or _("cluster-wide")
        return f"{self.user} {self.role} ({where})"

    def clean(self) -> None:
        """A namespace must be a valid namespace name (it need not exist yet)."""
        from django.core.exceptions import ValidationError

        from cluster.store.validation.common import dns1123_label

        if self.namespace:
            problems = dns1123_label("namespace", self.namespace)
            if problems:
                raise ValidationError({"namespace": [problem.message for problem in problems]})


class ApiToken(models.Model):
    """A bearer token for the Kubernetes API (``Authorization: Bearer <token>``).

    Only the SHA-256 of the token is stored; the token itself is shown once, when it is made
    (``cluster.access.token_create``). Tokens are long random strings, so a fast hash is enough:
    there is nothing to guess from, unlike a password.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100, blank=True, default="")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the token, so people can tell their tokens apart.
    prefix = models.CharField(_("starts with"), max_length=16, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["user__username", "created_at"]
        verbose_name = _("API token")

    def __str__(self) -> str:
        label = self.name or self.prefix + "…"
        return f"{self.user}: {label}"
