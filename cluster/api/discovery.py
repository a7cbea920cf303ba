"""Discovery: ``/version``, ``/api``, ``/apis``, ``/api/v1`` and ``/apis/<group>/<version>``.

Built from the kind registry (``cluster.store.kinds``), in the legacy shapes, which kubectl
1.32 fully supports (kubectl-contract §3.1-3.2): ``/api`` and ``/apis`` list the group
versions, then kubectl fetches one ``APIResourceList`` per group version. Aggregated discovery
(§3.3) is optional and not served: the legacy answer is the same information.

What each resource entry carries matters to kubectl (§3.2): ``shortNames`` make ``get po``
work, ``categories: ["all"]`` makes ``get all`` list the kind, ``verbs`` make ``api-resources``
list it, the ``pods/eviction`` entry makes ``drain`` evict instead of delete.

Besides the store's kinds, ``metrics.k8s.io/v1beta1`` is served (``cluster.api.metrics``): its
presence in ``/apis`` is what makes ``kubectl top`` try it (§12.3).
"""

from __future__ import annotations

from typing import Any

from cluster.api import metrics
from cluster.store.kinds import KINDS, Kind

MAJOR, MINOR = "1", "32"
GIT_VERSION = "v1.32.4-kubarium"

VERSION_INFO = {
    "major": MAJOR,
    "minor": MINOR,
    "gitVersion": GIT_VERSION,
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-04-22T00:00:00Z",
    "goVersion": "go1.23.6",
    "compiler": "gc",
    "platform": "linux/amd64",
}

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
SUBRESOURCE_VERBS = ["get", "patch", "update"]

# Group versions served without a kind of the store: the resource metrics API
# (``cluster.api.metrics``, for ``kubectl top``). A group version with no resources breaks
# discovery (``kubectl api-versions``: "received empty response for: policy/v1"), so
# ``policy/v1`` (where ``pods/eviction``'s Eviction belongs) is not listed until
# PodDisruptionBudgets exist; the eviction subresource itself lives on pods in core v1.
EXTRA_GROUP_VERSIONS: tuple[tuple[str, str], ...] = ((metrics.GROUP, metrics.VERSION),)


def group_versions() -> list[tuple[str, str]]:
    """Every (group, version) served: core first, then the named groups alphabetically."""
    seen: list[tuple[str, str]] = []
    for kind in KINDS:
        pair = (kind.group, kind.version)
        if pair not in seen:
            seen.append(pair)
    for pair in EXTRA_GROUP_VERSIONS:
        if pair not in seen:
            seen.append(pair)
    return sorted(seen, key=lambda p: (p[0] != "", p[0], seen.index(p)))


def served(group: str, version: str) -> bool:
    return (group, version) in group_versions()


def kinds_in(group: str, version: str) -> list[Kind]:
    """The store's kinds in a group version (what OpenAPI documents)."""
    return [k for k in KINDS if k.group == group and k.version == version]


def resources_in(group: str, version: str) -> list[Kind]:
    """Every kind a group version's URLs serve: the store's, or the metrics API's."""
    if (group, version) == (metrics.GROUP, metrics.VERSION):
        return list(metrics.KINDS)
    return kinds_in(group, version)


def group_version(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


def api_versions(server_address: str) -> dict[str, Any]:
    """``GET /api``: the core group's versions, and the address clients reach it by."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group_entry(name: str, versions: list[str]) -> dict[str, Any]:
    listed = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": listed, "preferredVersion": listed[0]}


def api_group_list() -> dict[str, Any]:
    """``GET /apis``: every named group with its versions."""
    groups: dict[str, list[str]] = {}
    for group, version in group_versions():
        if group:
            groups.setdefault(group, []).append(version)
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group_entry(name, versions) for name, versions in groups.items()],
    }


def api_group(group: str) -> dict[str, Any] | None:
    """``GET /apis/<group>``, or None for a group this server does not have."""
    versions = [v for g, v in group_versions() if g == group and g]
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_entry(group, versions)}


def subresources(kind: Kind) -> list[dict[str, Any]]:
    """The ``<plural>/<subresource>`` entries of a kind, as the apiserver lists them."""
    entries: list[dict[str, Any]] = []

    def add(name: str, verbs: list[str], kind_name: str, group: str = "", version: str = ""):
        entry: dict[str, Any] = {
            "name": f"{kind.plural}/{name}",
            "singularName": "",
            "namespaced": kind.namespaced,
        }
        if group or version:
            entry["group"], entry["version"] = group, version
        entry["kind"] = kind_name
        entry["verbs"] = verbs
        entries.append(entry)

    if kind.kind == "Pod":
        add("binding", ["create"], "Binding")
        add("eviction", ["create"], "Eviction", "policy", "v1")
        add("log", ["get"], "Pod")
    if kind.scale_subresource:
        add("scale", SUBRESOURCE_VERBS, "Scale", "autoscaling", "v1")
    if kind.status_subresource:
        add("status", SUBRESOURCE_VERBS, kind.kind)
    return entries


def resource_entry(kind: Kind) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": kind.plural,
        "singularName": kind.singular,
        "namespaced": kind.namespaced,
        "kind": kind.kind,
        "verbs": VERBS,
    }
    if kind.short_names:
        entry["shortNames"] = list(kind.short_names)
    if kind.categories:
        entry["categories"] = list(kind.categories)
    return entry


def api_resource_list(group: str, version: str) -> dict[str, Any] | None:
    """``GET /api/v1`` or ``GET /apis/<group>/<version>``: the resources and subresources,
    sorted by name as the apiserver sorts them; None for a group version not served."""
    if not served(group, version):
        return None
    if (group, version) == (metrics.GROUP, metrics.VERSION):
        return metrics.resource_list()
    resources: list[dict[str, Any]] = []
    for kind in kinds_in(group, version):
        resources.append(resource_entry(kind))
        resources.extend(subresources(kind))
    resources.sort(key=lambda r: r["name"])
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version(group, version),
        "resources": resources,
    }
