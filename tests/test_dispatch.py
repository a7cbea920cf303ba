"""One worker per key, as Kubernetes' work queues guarantee, with a re-run when asked meanwhile."""

from __future__ import annotations

import pytest

from cluster import dispatch, services, tasks


@pytest.fixture(autouse=True)
def clean(redis_url):
    dispatch._redis().delete(
        "kubarium:lock:probe|k", "kubarium:again:probe|k", "kubarium:queued:probe|k"
    )
    yield


def test_a_key_being_worked_on_is_not_worked_on_twice(monkeypatch):
    """While one run holds the key, another does nothing but ask for a re-run afterwards."""
    enqueued: list[tuple[str, ...]] = []
    monkeypatch.setattr(dispatch, "enqueue", lambda *item: enqueued.append(item))
    runs: list[str] = []

    def outer() -> str:
        inner = tasks._one_at_a_time("probe", "k", work=lambda: runs.append("inner") or "inner")
        assert inner is None  # the key was busy
        runs.append("outer")
        return "outer"

    assert tasks._one_at_a_time("probe", "k", work=outer) == "outer"
    assert runs == ["outer"]
    assert enqueued == [("probe", "k")]  # the busy caller's wish is honoured after


def test_a_free_key_runs_at_once_and_needs_no_rerun(monkeypatch):
    enqueued: list[tuple[str, ...]] = []
    monkeypatch.setattr(dispatch, "enqueue", lambda *item: enqueued.append(item))
    assert tasks._one_at_a_time("probe", "k", work=lambda: 42) == 42
    assert enqueued == []


@pytest.fixture
def probe_args(redis_url):
    """A unique argument, and afterwards no "queued" marker left of it."""
    import uuid

    marker = uuid.uuid4().hex
    yield marker
    client = dispatch._redis()
    for key in client.scan_iter(f"kubarium:queued:*{marker}*"):
        client.delete(key)


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, tuple[str, ...]]]:
    """What enqueue_many hands to Celery, in order (nothing reaches the broker: a worker of
    another test module may be consuming the queues)."""
    calls: list[tuple[str, tuple[str, ...]]] = []
    for name, task in tasks.TASKS.items():
        monkeypatch.setattr(
            task, "apply_async", lambda args=(), _name=name, **_: calls.append((_name, tuple(args)))
        )
    return calls


def test_enqueue_many_sends_each_key_once(probe_args, sent):
    """One round trip for the markers; a key already queued (in the list or before) is not
    sent again; once its task has started, it may be queued again."""
    rs, deploy = ("ReplicaSet", "default", probe_args), ("Deployment", "default", probe_args)
    count = dispatch.enqueue_many(
        [("reconcile", rs), ("reconcile", deploy), ("reconcile", rs)]  # rs twice in one list
    )
    assert count == 2
    assert sent == [("reconcile", rs), ("reconcile", deploy)]
    assert dispatch.enqueue_many([("reconcile", rs)]) == 0  # still queued: not again
    dispatch.started("reconcile", *rs)  # the task began: a new change queues it again
    assert dispatch.enqueue_many([("reconcile", rs)]) == 1
    assert len(sent) == 3


@pytest.fixture
def kubelet_work(probe_args):
    """No node due and no kubelets task marked queued, before and after; afterwards no lock
    or note left of the probe's nodes."""
    client = dispatch._redis()

    def clear() -> None:
        client.delete(dispatch.KUBELETS_DUE)
        for pattern in ("kubarium:queued:kubelets|*", f"kubarium:*kubelet_sync|*{probe_args}"):
            for key in client.scan_iter(pattern):
                client.delete(key)

    clear()
    yield
    clear()


def test_nodes_due_for_a_sync_go_into_one_set_and_wake_the_kubelets_tasks(
    probe_args, sent, kubelet_work
):
    """A node is due once however often it is asked for; the kubelets tasks are queued once
    (one per ``KUBELET_TASKS``) until they start."""
    a, b = f"a-{probe_args}", f"b-{probe_args}"
    work = [("kubelet_sync", (a,)), ("kubelet_sync", (b,)), ("kubelet_sync", (a,))]
    assert dispatch.enqueue_many(work) == 2
    assert sent == [("kubelets", (str(i),)) for i in range(dispatch.KUBELET_TASKS)]
    assert dispatch.enqueue_many([("kubelet_sync", (a,))]) == 0  # already due
    assert dispatch.nodes_due() == 2
    assert len(sent) == dispatch.KUBELET_TASKS


def test_a_node_being_synced_is_not_taken_twice_and_is_synced_again_after(
    probe_args, sent, kubelet_work
):
    """Taken nodes are locked; a node asked for while locked is not handed to a second taker
    but goes back into the set when the first one releases it."""
    a, b = f"a-{probe_args}", f"b-{probe_args}"
    dispatch.enqueue_many([("kubelet_sync", (a,)), ("kubelet_sync", (b,))])
    nodes, token = dispatch.take_nodes(10)
    assert nodes == sorted([a, b])
    assert dispatch.nodes_due() == 0

    dispatch.enqueue_many([("kubelet_sync", (a,))])  # a changes while it is being synced
    assert dispatch.take_nodes(10)[0] == []  # a is locked: left to its holder
    dispatch.release_nodes(nodes, token)

    assert dispatch.take_nodes(10)[0] == [a]  # and synced once more after


def test_a_failed_sync_leaves_its_nodes_due(probe_args, sent, kubelet_work):
    a = f"a-{probe_args}"
    dispatch.enqueue_many([("kubelet_sync", (a,))])
    nodes, token = dispatch.take_nodes(10)
    dispatch.release_nodes(nodes, token, again=True)
    assert dispatch.take_nodes(10)[0] == [a]


def test_an_unknown_task_queues_nothing(probe_args, sent):
    with pytest.raises(KeyError):
        dispatch.enqueue_many([("kubelet_sync", (probe_args,)), ("no-such-task", ())])
    assert sent == []


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("kubarium.kubelet_sync", "kubelets"),
        ("kubarium.kubelets", "kubelets"),
        ("kubarium.schedule", "scheduler"),
        ("kubarium.tick", "clock"),
        ("kubarium.reconcile", "celery"),
        ("kubarium.garbage_collect", "celery"),
    ],
)
def test_each_task_goes_to_the_queue_of_its_worker(task, queue):
    from cluster.celery import app

    assert app.amqp.router.route({}, task)["queue"].name == queue
    assert queue in services.WORKER_QUEUES


@pytest.mark.django_db
def test_one_commits_changes_read_each_namespaces_services_once(
    monkeypatch, django_assert_num_queries
):
    """A ReplicaSet's batch of pods (or a kubelet's sync) is one call: the Services of the
    namespace are read once, every pod's Endpoints and owner are queued, each key once."""
    from cluster.store import notify, write
    from tests.builders import service

    write.create(service("web", selector={"app": "web"}))
    write.create(service("other", selector={"app": "other"}))
    queued: list[list[tuple[str, tuple[str, ...]]]] = []
    monkeypatch.setattr(dispatch, "enqueue_many", lambda work: queued.append(list(work)))
    owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1", "uid": "u1"}
    changes = [
        notify.Changed(
            revision=10 + i,
            type="MODIFIED",
            kind="Pod",
            namespace="default",
            name=f"web-{i}",
            uid=f"p{i}",
            actor="kubelet",
            object={
                "metadata": {
                    "name": f"web-{i}",
                    "labels": {"app": "web"},
                    "ownerReferences": [{**owner, "controller": True}],
                },
                "spec": {"nodeName": "n1"},
            },
        )
        for i in range(50)
    ]

    with django_assert_num_queries(1):
        dispatch.on_changes(changes)

    assert queued == [
        [
            ("reconcile", ("ReplicaSet", "default", "web-1")),
            ("reconcile", ("Endpoints", "default", "web")),
        ]
    ]


def _pod_change(actor: str, owner_kind: str):
    from cluster.store import notify

    return notify.Changed(
        revision=1,
        type="MODIFIED",
        kind="Pod",
        namespace="default",
        name="web-1",
        uid="p1",
        actor=actor,
        object={
            "metadata": {
                "name": "web-1",
                "labels": {"app": "web"},
                "ownerReferences": [
                    {"kind": owner_kind, "name": "owner", "uid": "o1", "controller": True}
                ],
            },
            "spec": {"nodeName": "n1"},
        },
    )


@pytest.mark.parametrize(
    ("actor", "owner", "expected"),
    [
        # The scheduler's binding: the kubelet must look; the ReplicaSet and the Service not.
        ("default-scheduler", "ReplicaSet", [("kubelet_sync", "n1")]),
        # A DaemonSet counts its pods per node: it hears of the binding.
        (
            "default-scheduler",
            "DaemonSet",
            [("reconcile", "DaemonSet", "default", "owner"), ("kubelet_sync", "n1")],
        ),
        # The kubelet's status (an IP, readiness): owner and Endpoints, not the kubelet itself.
        (
            "kubelet",
            "ReplicaSet",
            [
                ("reconcile", "ReplicaSet", "default", "owner"),
                ("reconcile", "Endpoints", "default", "web"),
            ],
        ),
    ],
    ids=["binding", "daemonset-binding", "kubelet-status"],
)
def test_who_hears_of_a_pod_change(actor, owner, expected):
    services = lambda namespace, labels: ["web"] if labels.get("app") == "web" else []  # noqa: E731
    assert dispatch.work_for(_pod_change(actor, owner), services) == expected


def test_the_dispatcher_knows_the_schedulers_name():
    from cluster.scheduler.runner import COMPONENT

    assert dispatch.SCHEDULER == COMPONENT


def _replicaset_change(actor: str, generation: int, observed: int | None, type_="MODIFIED"):
    from cluster.store import notify

    status = {"replicas": 3} if observed is None else {"observedGeneration": observed}
    return notify.Changed(
        revision=1,
        type=type_,
        kind="ReplicaSet",
        namespace="default",
        name="web-1",
        uid="r1",
        actor=actor,
        object={
            "metadata": {
                "name": "web-1",
                "generation": generation,
                "ownerReferences": [
                    {"kind": "Deployment", "name": "web", "uid": "d1", "controller": True}
                ],
            },
            "status": status,
        },
    )


SELF = ("reconcile", "ReplicaSet", "default", "web-1")
OWNER = ("reconcile", "Deployment", "default", "web")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # Its own status write, having seen the current spec: only its Deployment looks.
        (_replicaset_change("replicaset-controller", 2, 2), [OWNER]),
        # Its controller has not seen generation 3 yet: it looks again.
        (_replicaset_change("replicaset-controller", 3, 2), [SELF, OWNER]),
        # Scaled by the Deployment controller, or edited by a user: it looks.
        (_replicaset_change("deployment-controller", 2, 2), [SELF, OWNER]),
        (_replicaset_change("alice", 2, 2), [SELF, OWNER]),
        (_replicaset_change("replicaset-controller", 1, None), [SELF, OWNER]),
        (_replicaset_change("deployment-controller", 1, None, "ADDED"), [SELF, OWNER]),
    ],
    ids=["own-status", "spec-not-seen", "scaled", "user-edit", "no-status", "created"],
)
def test_a_controllers_own_status_write_does_not_wake_it_again(change, expected):
    assert dispatch.work_for(change, lambda namespace, labels: []) == expected
