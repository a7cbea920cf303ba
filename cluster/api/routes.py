"""Resource URLs of the Kubernetes REST API, parsed into a :class:`Route`.

The apiserver's URL layout, for a group version ``GV`` (``/api/v1`` or ``/apis/<group>/<v>``)::

    GV                                        discovery (APIResourceList)
    GV/<plural>                               collection: a cluster-scoped kind, or a
                                              namespaced kind in all namespaces (kubectl -A)
    GV/<plural>/<name>[/<subresource>]        a cluster-scoped object
    GV/namespaces/<ns>/<plural>               a namespaced collection
    GV/namespaces/<ns>/<plural>/<name>[/<subresource>]
    GV/watch/...                              the deprecated watch prefix (same as ?watch=1)

``/api/v1/namespaces/<name>/status`` is the Namespace's status subresource: a third segment
that is not a namespaced resource of the group version is a subresource of the namespace.
Anything else is the apiserver's plain 404 (``the server could not find the requested
resource``).
"""

from __future__ import annotations

from dataclasses import dataclass

from cluster.api import discovery
from cluster.api.http import NotFoundPath
from cluster.store.kinds import Kind

# Subresource names that route somewhere (served, or answered with a clear error).
SUBRESOURCES = {
    "status",
    "scale",
    "log",
    "eviction",
    "binding",
    "exec",
    "attach",
    "portforward",
    "proxy",
    "finalize",
    "ephemeralcontainers",
    "resize",
}


@dataclass(frozen=True)
class Route:
    group: str
    version: str
    kind: Kind | None = None  # None: the group version's discovery document
    namespace: str | None = None  # None: a cluster-scoped kind, or all namespaces
    name: str = ""
    subresource: str = ""
    watch: bool = False  # the deprecated /watch/ prefix

    @property
    def is_collection(self) -> bool:
        return self.kind is not None and not self.name


def _kind(group: str, version: str, plural: str) -> Kind | None:
    for kind in discovery.resources_in(group, version):
        if kind.plural == plural:
            return kind
    return None


def resolve(group: str, version: str, segments: list[str]) -> Route:
    """The route for the path segments after the group version. Raises NotFoundPath."""
    if not discovery.served(group, version):
        raise NotFoundPath()
    if segments and segments[-1] == "":
        segments = segments[:-1]  # a trailing slash
    if any(segment == "" for segment in segments):
        raise NotFoundPath()
    watch = False
    if segments and segments[0] == "watch":
        watch, segments = True, segments[1:]
    if not segments:
        if watch:
            raise NotFoundPath()
        return Route(group, version)

    # Namespaced: namespaces/<ns>/<plural>[/<name>[/<sub>]].
    if segments[0] == "namespaces" and len(segments) >= 3:
        namespaced = _kind(group, version, segments[2])
        if namespaced is not None and namespaced.namespaced:
            rest = segments[3:]
            if len(rest) > 2:
                raise NotFoundPath()
            name = rest[0] if rest else ""
            sub = rest[1] if len(rest) == 2 else ""
            return _checked(Route(group, version, namespaced, segments[1], name, sub, watch))

    kind = _kind(group, version, segments[0])
    if kind is None or len(segments) > 3:
        raise NotFoundPath()
    if kind.namespaced and len(segments) > 1:
        raise NotFoundPath()
    name = segments[1] if len(segments) > 1 else ""
    sub = segments[2] if len(segments) > 2 else ""
    return _checked(Route(group, version, kind, None, name, sub, watch))


def _checked(route: Route) -> Route:
    if route.subresource and route.subresource not in SUBRESOURCES:
        raise NotFoundPath()
    if route.watch and route.subresource:
        raise NotFoundPath()
    return route
