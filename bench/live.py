"""Live stream benchmark: 100 open Architecture pages while pods are bound at 20 per second.

Everything is real: a private Redis (``services.PrivateRedis``, the Channels layer), the
benchmark's own database (a temporary SQLite file; ``--postgres URL`` for a scratch database on
that server), and Daphne serving ``dashboard.asgi:application`` exactly as ``manage.py up`` runs
it, with the control plane off (``KUBARIUM_CONTROL_PLANE=0``, no Celery worker) and the clock
paused, so the only writes are the benchmark's own. Anonymous read is on, so the clients need
no session.

The cluster: ``--nodes`` nodes (``bench/scheduler.py``'s: three zones, tainted control-plane
nodes, 1 % cordoned, 1 % NotReady) and ``--pods`` pods from its 50 templates, all but the ones
the live phase binds already bound (round robin over the schedulable nodes, through
``cluster.store.batch``).

1. **Render.** The Architecture page over HTTP (a new connection per request, as a first visit):
   ``/`` (zone summaries, the queue, the control plane) and ``/?zone=<first zone>`` (that zone
   opened, its first page of node cards). Time to the response's first byte (status line and
   headers: Django renders the whole page before it sends anything), to the last byte, and the
   HTML's size; the median of ``--repeat`` requests after one to warm up.
   Baseline: a plain Django view and template listing every node (zone, Ready, pods, cpu) with
   two queries (``bench/live_asgi.py``'s ``/nodes``), through the same request handling.
2. **Baseline stream.** ``--clients`` websocket clients connected to a second Daphne
   (``bench/live_asgi.py``: same settings, same Redis) whose consumer forwards what it receives;
   this process sends a tiny message (``revision N`` in the markup the clients look for) to their
   group with a raw Channels ``group_send`` ``--rate`` times a second: the floor that rendering
   adds to.
3. **Live stream.** The same clients connected to the real page's websocket URL (read from the
   ``ws-connect`` attribute of ``/``), while this process binds pending pods one per commit
   (``cluster.store.batch.bind_pods``, actor ``default-scheduler``) ``--rate`` times a second for
   ``--seconds``. The store's notify hook (``dashboard.broadcast``, as in every process) publishes
   each commit; this process also notes each bind's revision and the wall time right after its
   commit (a second notify subscriber). Each update a page receives re-renders the etcd
   component, whose caption is ``revision N``, the highest revision it reflects: the client
   process notes when each message arrived and that revision. A commit of revision ``r``
   reaches a client with the first message whose revision is ``r`` or more (a page that shows
   revision ``r + 1`` shows ``r``'s change too); a commit that no message covers before the end
   (``--drain`` seconds after the last commit at most) is **lost**.
4. **Where the time goes.** One bind's update rendered in this process
   (``architecture.render_update``): as the page's renderer in Daphne does it, once per batch
   for every page of the same query (its cache and connection kept), and from scratch (a new
   database connection, every node's figures read); the median of 20 each; ``--profile FILE``
   writes a cProfile of the renderer's.

The clients run in a process of their own (``live.py clients``, one asyncio loop, aiohttp), so
their work does not share this process's interpreter lock with the commits.

    python bench/live.py [--nodes 1000] [--pods 10000] [--clients 100] [--rate 20]
                         [--seconds 30] [--baseline-seconds 10] [--page QUERY] [--repeat 5]
                         [--drain 60] [--postgres URL] [--profile FILE] [--keep]

The last line is a summary: ``live: p50 12 ms, p99 80 ms, lost 0 (baseline ...)``. Every process
it starts (Redis, the two Daphnes, the clients) is stopped at the end, after a Ctrl-C and on
failure.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import html
import http.client
import json
import math
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
# bench/cluster.py would hide the ``cluster`` package: the project root goes first.
sys.path.insert(0, str(ROOT))
if str(BENCH) not in sys.path:
    sys.path.append(str(BENCH))

from _setup import cpu_seconds, machine_cpu  # noqa: E402

from cluster import services  # noqa: E402  (no Django at import time)

NAMESPACE = "bench"
BINDER = "default-scheduler"
READY_TIMEOUT = 90.0
# The etcd component of a rendered page or update, and the revision in its caption.
ETCD_ARTICLE = re.compile(r'<article id="cp-etcd"[^>]*>(.*?)</article>', re.S)
REVISION = re.compile(r"revision (\d+)")
WS_CONNECT = re.compile(r'ws-connect="([^"]+)"')


def revision_in(text: str) -> int:
    """The revision a page fragment reflects (etcd's caption), 0 when it has none.

    >>> revision_in('<article id="cp-etcd" class="component acting"><p>revision 42</p></article>')
    42
    """
    article = ETCD_ARTICLE.search(text)
    if article is None:
        return 0
    found = REVISION.search(article.group(1))
    return int(found.group(1)) if found else 0


# --- the clients: a process of their own ---------------------------------------------------


async def _client(
    index: int, ws, receipts: list[list[list[float]]], closed: set[int], ending: asyncio.Event
) -> None:
    from aiohttp import WSMsgType

    async for message in ws:
        arrived = time.time()
        if message.type == WSMsgType.TEXT:
            receipts[index].append([arrived, revision_in(message.data), len(message.data)])
    if not ending.is_set():  # the server closed it
        closed.add(index)


async def _clients(args: argparse.Namespace) -> int:
    import aiohttp

    directory = Path(args.dir)
    receipts: list[list[list[float]]] = [[] for _ in range(args.count)]
    closed: set[int] = set()
    ending = asyncio.Event()
    started = time.monotonic()
    connector = aiohttp.TCPConnector(limit=0)  # the default pool would cap us at 100
    async with aiohttp.ClientSession(connector=connector) as session:
        sockets = []
        for first in range(0, args.count, 10):
            batch = range(first, min(first + 10, args.count))
            sockets += await asyncio.gather(
                *(
                    session.ws_connect(
                        args.url, headers={"Origin": args.origin}, max_msg_size=0, autoping=True
                    )
                    for _ in batch
                )
            )
        connected = time.monotonic() - started
        readers = [
            asyncio.create_task(_client(i, ws, receipts, closed, ending))
            for i, ws in enumerate(sockets)
        ]
        (directory / "ready").write_text(f"{connected:.3f}\n")
        target_file = directory / "target"
        while not target_file.exists():
            await asyncio.sleep(0.02)
        target = int(target_file.read_text())
        deadline = time.monotonic() + args.drain

        def behind() -> int:
            return sum(
                1
                for i, got in enumerate(receipts)
                if i not in closed and max((r[1] for r in got), default=0) < target
            )

        while behind() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        ending.set()
        for ws in sockets:
            await ws.close()
        for reader in readers:
            with contextlib.suppress(Exception):
                await reader
    result = {"connect_seconds": connected, "receipts": receipts, "closed": sorted(closed)}
    (directory / "results.json").write_text(json.dumps(result))
    return 0


def clients_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="live.py clients")
    parser.add_argument("--url", required=True)
    parser.add_argument("--origin", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--drain", type=float, required=True)
    return asyncio.run(_clients(parser.parse_args(argv)))


# --- from receipts to latencies (pure) -------------------------------------------------------


def attribute(
    commits: list[tuple[int, float]], receipts: list[list[list[float]]]
) -> tuple[list[float], int]:
    """(latency in seconds of every (client, commit) pair, commits some client never got).

    ``commits``: (revision, wall time right after its commit). ``receipts``: per client, its
    messages in arrival order as ``[time, revision, size]`` (revision 0: none shown). A commit
    reaches a client with the first message of that revision or a later one:

    >>> commits = [(10, 100.0), (11, 100.05), (12, 100.1)]
    >>> first, second = [[100.0, 0, 5], [100.2, 11, 900]], [[100.3, 12, 900]]
    >>> latencies, lost = attribute(commits, [first, second])
    >>> [round(x, 2) for x in latencies], lost
    ([0.2, 0.15, 0.3, 0.25, 0.2], 1)

    (the first client never saw revision 12: one lost; the second got all three at once.)
    """
    latencies: list[float] = []
    lost = 0
    for received in receipts:
        times: list[float] = []
        highs: list[int] = []
        for arrived, revision, _size in received:
            if revision and (not highs or revision > highs[-1]):
                highs.append(int(revision))
                times.append(arrived)
        for revision, committed in commits:
            position = bisect.bisect_left(highs, revision)
            if position == len(highs):
                lost += 1
            else:
                latencies.append(times[position] - committed)
    return latencies, lost


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the 99th percentile of 1..200 is 198.

    >>> percentile(list(range(1, 201)), 99), percentile([3.0, 1.0, 2.0], 50)
    (198, 2.0)
    """
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


# --- processes -------------------------------------------------------------------------------


def start_daphne(
    supervisor: services.Supervisor, name: str, app: str, env: dict[str, str], log: Path
) -> tuple[services.Child, str]:
    port = services.find_free_port()
    argv = [*services.daphne_argv(port)[:-1], app]
    with log.open("ab") as output:
        child = supervisor.start(
            name, argv, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://{services.LOCALHOST}:{port}"
    supervisor.wait_ready(child, lambda: services.http_answers(url + "/"), timeout=READY_TIMEOUT)
    return child, url


# --- the cluster -----------------------------------------------------------------------------


def build_cluster(nodes: int, pods: int, pending: int) -> tuple[list[tuple[str, str]], list[str]]:
    """Nodes and pods, all but ``pending`` pods bound; returns (pending pods, schedulable nodes)."""
    from django.db import transaction
    from scheduler import create, node_objects, pod_objects

    from cluster.models import Node, Pod
    from cluster.store import batch, write

    write.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    create(node_objects(nodes), "batch", 500)
    create(pod_objects(pods, NAMESPACE), "batch", 1000)
    schedulable = [
        node.name
        for node in Node.objects.filter(ready="True", unschedulable=False).order_by("name")
        if not any(t.get("effect") == "NoSchedule" for t in (node.spec or {}).get("taints") or [])
    ]
    names = list(
        Pod.objects.filter(namespace=NAMESPACE).order_by("name").values_list("name", flat=True)
    )
    to_bind, waiting = names[: len(names) - pending], names[len(names) - pending :]
    for first in range(0, len(to_bind), 500):
        chunk = to_bind[first : first + 500]
        bindings = [
            batch.Binding(NAMESPACE, name, schedulable[(first + i) % len(schedulable)])
            for i, name in enumerate(chunk)
        ]
        with transaction.atomic():
            errors = batch.errors_of(batch.bind_pods(bindings, actor=BINDER))
        if errors:
            raise errors[0]
    return [(NAMESPACE, name) for name in waiting], schedulable


# --- render ----------------------------------------------------------------------------------


@dataclass
class Fetched:
    first_byte: float
    full: float
    size: int
    status: int
    body: str


def fetch(base: str, path: str) -> Fetched:
    """GET ``path`` on a new connection: seconds to the first byte and to the last, the size."""
    parts = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        started = time.perf_counter()
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        first = time.perf_counter() - started
        body = response.read()
        full = time.perf_counter() - started
    finally:
        connection.close()
    return Fetched(first, full, len(body), response.status, body.decode("utf-8", "replace"))


@dataclass
class PageFigures:
    label: str
    path: str
    first_byte: float  # median seconds
    full: float
    slowest: float
    size: int


def measure_page(label: str, base: str, path: str, repeat: int) -> PageFigures:
    warm = fetch(base, path)
    if warm.status != 200:
        raise RuntimeError(f"GET {path} answered {warm.status}: {warm.body[:300]}")
    runs = [fetch(base, path) for _ in range(repeat)]
    return PageFigures(
        label,
        path,
        statistics.median(r.first_byte for r in runs),
        statistics.median(r.full for r in runs),
        max(r.full for r in runs),
        runs[-1].size,
    )


def print_page(figures: PageFigures) -> None:
    print(
        f"  {figures.label:<34} first byte {figures.first_byte * 1000:6.0f} ms, page "
        f"{figures.full * 1000:6.0f} ms (slowest {figures.slowest * 1000:.0f} ms), "
        f"{figures.size / 1024:7.1f} KiB"
    )


# --- a live phase ----------------------------------------------------------------------------


@dataclass
class Phase:
    latencies: list[float]
    lost: int
    commits: int
    clients: int
    closed: int
    messages: int
    received_bytes: int
    connect_seconds: float
    late_ticks: int  # sends that started more than one interval after they were due
    server_cpu: float  # the server's CPU seconds per wall second during the phase
    clients_cpu: float  # the clients' process, likewise
    machine_cpu: float  # how busy the whole machine was (0..1)
    seconds: float

    def summary(self) -> str:
        return (
            f"p50 {percentile(self.latencies, 50) * 1000:.0f} ms, "
            f"p99 {percentile(self.latencies, 99) * 1000:.0f} ms, lost {self.lost}"
        )


def run_phase(
    supervisor: services.Supervisor,
    workdir: Path,
    name: str,
    ws_url: str,
    origin: str,
    server: services.Child,
    args: argparse.Namespace,
    count: int,
    send,
) -> Phase:
    """Connect the clients to ``ws_url``, call ``send(i)`` ``count`` times at ``args.rate`` per
    second (it returns the revision it produced and the wall time of its commit), wait for the
    clients to drain, and attribute what they received."""
    directory = workdir / name
    directory.mkdir()
    argv = [
        sys.executable, str(Path(__file__).resolve()), "clients", "--url", ws_url,
        "--origin", origin, "--count", str(args.clients), "--dir", str(directory),
        "--drain", str(args.drain),
    ]  # fmt: skip
    with (directory / "clients.log").open("ab") as log:
        # Not the supervisor's: this child is meant to exit (the supervisor takes that as a
        # failure); stopped below whatever happens.
        clients = services.spawn(
            f"{name} clients", argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        return _drive(supervisor, directory, clients, server, args, count, send)
    finally:
        clients.stop(timeout=5.0)


def _drive(
    supervisor: services.Supervisor,
    directory: Path,
    clients: services.Child,
    server: services.Child,
    args: argparse.Namespace,
    count: int,
    send,
) -> Phase:
    def ready() -> bool:
        if clients.returncode is not None:
            log = (directory / "clients.log").read_text(errors="replace")
            raise RuntimeError(f"the clients exited ({clients.describe_exit()}):\n{log}")
        return (directory / "ready").exists()

    supervisor.wait_ready(clients, ready, timeout=READY_TIMEOUT + args.clients)
    time.sleep(1.0)  # let the consumers' first clock renders go out
    server_pids = services.group_members(server.pgid)
    cpu_start, machine_start = cpu_seconds(server_pids), machine_cpu()
    clients_start = cpu_seconds([clients.pid])
    commits: list[tuple[int, float]] = []
    interval = 1.0 / args.rate
    late = 0
    started = time.monotonic()
    for i in range(count):
        due = started + i * interval
        now = time.monotonic()
        if now < due:
            time.sleep(due - now)
        elif now - due > interval:
            late += 1
        commits.append(send(i))
        if outcome := supervisor.check():
            raise services.StartupAborted(outcome)
    elapsed = time.monotonic() - started
    clients_cpu = (cpu_seconds([clients.pid]) - clients_start) / elapsed
    (directory / "target").write_text(str(max(r for r, _ in commits)))
    services.wait_for(lambda: clients.returncode is not None, timeout=args.drain + 60, interval=0.1)
    cpu = (cpu_seconds(server_pids) - cpu_start) / elapsed
    busy, total = (end - start for end, start in zip(machine_cpu(), machine_start, strict=True))
    if clients.returncode != 0:
        raise RuntimeError(f"the clients failed:\n{(directory / 'clients.log').read_text()}")
    result = json.loads((directory / "results.json").read_text())
    receipts = result["receipts"]
    latencies, lost = attribute(commits, receipts)
    return Phase(
        latencies=latencies,
        lost=lost,
        commits=len(commits),
        clients=len(receipts),
        closed=len(result["closed"]),
        messages=sum(len(r) for r in receipts),
        received_bytes=sum(int(m[2]) for r in receipts for m in r),
        connect_seconds=result["connect_seconds"],
        late_ticks=late,
        server_cpu=cpu,
        clients_cpu=clients_cpu,
        machine_cpu=busy / total if total else 0.0,
        seconds=elapsed,
    )


def print_phase(label: str, phase: Phase) -> None:
    values = phase.latencies
    print(
        f"{label}: {phase.commits} commits to {phase.clients} clients (connected in "
        f"{phase.connect_seconds:.1f} s) in {phase.seconds:.1f} s, {len(values)} deliveries: "
        f"{phase.summary()}"
    )
    if values:
        print(
            f"  min {min(values) * 1000:.0f} ms, p90 {percentile(values, 90) * 1000:.0f} ms, "
            f"max {max(values) * 1000:.0f} ms; {phase.messages} messages "
            f"({phase.messages / max(phase.clients, 1):.0f} per client, "
            f"{phase.received_bytes / max(phase.messages, 1) / 1024:.1f} KiB each); "
            f"{phase.closed} connections closed by the server; {phase.late_ticks} sends late"
        )
    print(
        f"  CPU: the server {phase.server_cpu:.0%} of one CPU, the clients "
        f"{phase.clients_cpu:.0%}, the machine "
        f"{phase.machine_cpu:.0%} busy (load average {os.getloadavg()[0]:.1f})"
    )


# --- the run ---------------------------------------------------------------------------------


def main() -> int:
    if sys.argv[1:2] == ["clients"]:
        return clients_main(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--rate", type=float, default=20.0, help="binds per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="of binding")
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    parser.add_argument("--page", default="", help="the clients' page query, e.g. zone=zone-a")
    parser.add_argument("--repeat", type=int, default=5, help="requests per page measured")
    parser.add_argument("--drain", type=float, default=60.0, help="seconds to wait at the end")
    parser.add_argument("--postgres", metavar="URL", help="a scratch database on this server")
    parser.add_argument("--keep", action="store_true", help="keep the database and the logs")
    parser.add_argument("--profile", metavar="FILE", help="cProfile an update's render into FILE")
    args = parser.parse_args()

    from scheduler import bench_database

    os.environ.update(
        {
            "KUBARIUM_CONTROL_PLANE": "0",  # no Celery: the benchmark's binds are the only writes
            "KUBARIUM_SPEED": "0",  # the clock is created paused
            "KUBARIUM_ANONYMOUS_READ": "1",
            "DEBUG": "0",  # DEBUG keeps every query in memory
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(40),
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        }
    )
    workdir = Path(tempfile.mkdtemp(prefix="kubarium-live-bench-"))
    try:
        with bench_database(args.postgres, keep=args.keep):
            with services.Supervisor(stop_timeout=10.0) as supervisor:
                live, summary = run(args, supervisor, workdir)
    finally:
        if args.keep:
            print(f"logs: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(summary)  # last, after the servers stopped
    return 0 if live.lost == 0 else 1


def run(
    args: argparse.Namespace, supervisor: services.Supervisor, workdir: Path
) -> tuple[Phase, str]:
    redis = supervisor.enter_context(services.PrivateRedis())
    os.environ["REDIS_URL"] = redis.url
    from _setup import setup_django

    database = setup_django()

    from channels.layers import get_channel_layer

    from cluster import clock, dispatch
    from cluster.store import batch, notify
    from cluster.store.read import current_revision
    from dashboard import broadcast

    dispatch.disconnect()
    broadcast.disconnect()  # nobody listens during the set-up
    clock.pause()
    binds = int(args.rate * args.seconds)
    started = time.monotonic()
    pending, schedulable = build_cluster(args.nodes, args.pods, binds)
    print(f"database: {database}; redis {redis.url}")
    print(
        f"set-up: {args.nodes} nodes, {args.pods} pods ({args.pods - binds} bound, {binds} "
        f"pending) in {time.monotonic() - started:.1f} s, revision {current_revision()}"
    )

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(BENCH),  # for live_asgi; the project root is the working directory
    }
    daphne, url = start_daphne(
        supervisor, "daphne", "dashboard.asgi:application", env, workdir / "daphne.log"
    )
    plain, plain_url = start_daphne(
        supervisor, "baseline daphne", "live_asgi:application", env, workdir / "baseline.log"
    )
    print(f"daphne (pid {daphne.pid}) {url}; baseline daphne (pid {plain.pid}) {plain_url}")

    # 1. Render.
    zone = sorted({zone for zone in _zones()})[0]
    query = f"?{args.page}" if args.page else ""
    print(f"render (median of {args.repeat}, after one request to warm up):")
    pages = [
        measure_page("Architecture /", url, "/", args.repeat),
        measure_page(f"Architecture /?zone={zone}", url, f"/?zone={zone}", args.repeat),
        measure_page("baseline: plain template /nodes", plain_url, "/nodes", args.repeat),
    ]
    for figures in pages:
        print_page(figures)

    # 2. Baseline stream: a raw group_send of a tiny message.
    from live_asgi import GROUP, MESSAGE_TYPE

    layer = get_channel_layer()
    loop = asyncio.new_event_loop()

    def send_raw(i: int) -> tuple[int, float]:
        text = f'<article id="cp-etcd"><p class="caption">revision {i + 1}</p></article>'
        sent = time.time()
        loop.run_until_complete(layer.group_send(GROUP, {"type": MESSAGE_TYPE, "text": text}))
        return i + 1, sent

    origin = plain_url
    ws_base = "ws" + plain_url.removeprefix("http")
    baseline = run_phase(
        supervisor, workdir, "baseline", f"{ws_base}/ws/baseline", origin, plain, args,
        int(args.rate * args.baseline_seconds), send_raw,
    )  # fmt: skip
    print_phase("baseline stream (raw group_send, no rendering)", baseline)
    loop.close()

    # 3. The live stream of the real page.
    page = fetch(url, "/" + query)
    found = WS_CONNECT.search(page.body)
    if page.status != 200 or found is None:
        raise RuntimeError(f"GET /{query}: {page.status}, no ws-connect attribute")
    ws_url = "ws" + url.removeprefix("http") + html.unescape(found.group(1))
    committed: list[tuple[int, float]] = []

    def note(changed: notify.Changed) -> None:
        if changed.kind == "Pod" and changed.actor == BINDER:
            committed.append((changed.revision, time.time()))

    broadcast.connect()
    notify.subscribe(note)

    def bind(i: int) -> tuple[int, float]:
        namespace, name = pending[i]
        node = schedulable[(i * 7) % len(schedulable)]
        errors = batch.errors_of(
            batch.bind_pods([batch.Binding(namespace, name, node)], actor=BINDER)
        )
        if errors:
            raise errors[0]
        return committed[-1]

    print(f"live stream: {args.clients} clients on {ws_url}")
    live = run_phase(supervisor, workdir, "live", ws_url, url, daphne, args, binds, bind)
    broadcast.flush()
    print_phase(f"live stream ({args.rate:g} binds/s, one pod per commit)", live)
    namespace, name = pending[-1]
    node = schedulable[((binds - 1) * 7) % len(schedulable)]
    cost, cached = update_render_cost(
        query.lstrip("?"), current_revision(), namespace, name, node, 20, args.profile or ""
    )
    print(
        f"one bind's update rendered (in this process, median of 20): {cached * 1000:.1f} ms as "
        f"the page's renderer does it (its cache and database connection kept), once per batch "
        f"for all {args.clients} pages; {cost * 1000:.0f} ms from scratch (a new connection, "
        f"every node's figures read)"
        + (f" (cProfile of the renderer's: {args.profile})" if args.profile else "")
    )
    first = pages[0]
    print(
        f"page: first byte {first.first_byte * 1000:.0f} ms, page {first.full * 1000:.0f} ms, "
        f"{first.size / 1024:.0f} KiB at {args.nodes} nodes / {args.pods} pods (baseline "
        f"{pages[-1].full * 1000:.0f} ms, {pages[-1].size / 1024:.0f} KiB)"
    )
    return live, f"live: {live.summary()} (baseline {baseline.summary()})"


def update_render_cost(
    query: str, revision: int, namespace: str, name: str, node: str, repeat: int, profile: str
) -> tuple[float, float]:
    """Median seconds to render one bind's update (``render_update`` of the page's module):
    from scratch (a fresh database connection each time, no cache), and as the page's renderer
    in Daphne does it (``dashboard.renderers``: its connection and cache kept between batches);
    cProfile of the latter into ``profile``."""
    import cProfile

    from django.db import connections
    from django.utils import translation

    from dashboard.broadcast import Notice, groups_for, messages_for
    from dashboard.pages import architecture

    focus = architecture.Focus.from_query(dict(urllib.parse.parse_qsl(query)))
    sent = messages_for([Notice(revision, "MODIFIED", "Pod", namespace, name, BINDER, node)])
    received = [sent[group] for group in groups_for(focus.namespace) if group in sent]

    def render(cache: dict | None) -> float:
        started = time.perf_counter()
        with translation.override("en"):
            html = architecture.render_update(focus, received, cache=cache)
        elapsed = time.perf_counter() - started
        if revision_in(html) != revision:
            raise RuntimeError(f"the update does not show revision {revision}: {html[:300]}")
        return elapsed

    scratch = []
    for _ in range(repeat):
        connections.close_all()
        scratch.append(render(None))
    cache: dict = {}
    render(cache)  # the renderer's first batch reads every node's figures
    profiler = cProfile.Profile() if profile else None
    kept = []
    for _ in range(repeat):
        if profiler:
            profiler.enable()
        kept.append(render(cache))
        if profiler:
            profiler.disable()
    if profiler:
        profiler.dump_stats(profile)
    return statistics.median(scratch), statistics.median(kept)


def _zones() -> set[str]:
    from cluster.models import Node

    return {
        (labels or {}).get("topology.kubernetes.io/zone", "")
        for labels in Node.objects.values_list("labels", flat=True)
    }


if __name__ == "__main__":
    sys.exit(main())
