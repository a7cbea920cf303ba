"""kube-proxy and Ingress routing: which pod serves a request, and why."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from cluster.proxy import Request, RoundRobinState, match_host, match_path, route

# --------------------------------------------------------------------------------------------
# Builders


def ingress(
    name: str,
    *rules: dict,
    default: str | None = None,
    tls: list[dict] | None = None,
    created: str = "2025-01-01T00:00:00Z",
) -> dict:
    spec: dict[str, Any] = {"rules": list(rules)}
    if default:
        spec["defaultBackend"] = {"service": {"name": default, "port": {"number": 80}}}
    if tls:
        spec["tls"] = tls
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "namespace": "default", "creationTimestamp": created},
        "spec": spec,
    }


def rule(host: str | None, *paths: tuple[str, str, str]) -> dict:
    entry: dict[str, Any] = {
        "http": {
            "paths": [
                {
                    "path": path,
                    "pathType": kind,
                    "backend": {"service": {"name": svc, "port": {"number": 80}}},
                }
                for path, kind, svc in paths
            ]
        }
    }
    if host is not None:
        entry["host"] = host
    return entry


def service(
    name: str,
    *,
    affinity: bool = False,
    node_port: int | None = None,
    ports: list[dict] | None = None,
    timeout: int | None = None,
) -> dict:
    spec: dict[str, Any] = {
        "type": "NodePort" if node_port else "ClusterIP",
        "clusterIP": "10.96.0.20",
        "selector": {"app": name},
        "ports": ports
        or [{"port": 80, "targetPort": 8080, **({"nodePort": node_port} if node_port else {})}],
    }
    if affinity:
        spec["sessionAffinity"] = "ClientIP"
        if timeout:
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": timeout}}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
    }


def endpoints(
    name: str,
    ready: list[tuple[str, str, str]],
    not_ready: list[tuple[str, str, str]] = (),
    port: int = 8080,
    port_name: str | None = None,
) -> dict:
    def address(ip: str, pod: str, node: str) -> dict:
        return {
            "ip": ip,
            "nodeName": node,
            "targetRef": {"kind": "Pod", "name": pod, "namespace": "default"},
        }

    subset: dict[str, Any] = {
        "ports": [{"port": port, "protocol": "TCP", **({"name": port_name} if port_name else {})}]
    }
    if ready:
        subset["addresses"] = [address(*a) for a in ready]
    if not_ready:
        subset["notReadyAddresses"] = [address(*a) for a in not_ready]
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": name, "namespace": "default"},
        "subsets": [subset],
    }


WEB_PODS = [
    ("10.244.1.5", "web-abc", "worker-1"),
    ("10.244.2.7", "web-def", "worker-2"),
    ("10.244.1.9", "web-ghi", "worker-1"),
]
SERVICES = [
    service(n)
    for n in ("web", "api", "api-v2", "shop", "docs", "fallback", "exact", "catchall", "wild")
]
ENDPOINTS = [
    endpoints(n, [(f"10.244.3.{i + 2}", f"{n}-pod", "worker-3")])
    for i, n in enumerate(
        ("api", "api-v2", "shop", "docs", "fallback", "exact", "catchall", "wild")
    )
]
ENDPOINTS.append(endpoints("web", WEB_PODS))


def go(
    request: Request,
    ingresses: list[dict] = (),
    services=SERVICES,
    eps=ENDPOINTS,
    state: RoundRobinState | None = None,
):
    return route(request, ingresses, services, eps, [], state or RoundRobinState())


def backend_of(result) -> str | None:
    """The Service that was chosen (from the kube-proxy hop's target)."""
    for hop in result.hops:
        if hop.component == "kube-proxy" and "/" in hop.target:
            return hop.target.split("/", 1)[1].split(":", 1)[0]
    return None


# --------------------------------------------------------------------------------------------
# The Ingress path table (https://kubernetes.io/docs/concepts/services-networking/ingress/)


@pytest.mark.parametrize(
    ("kind", "rule_path", "request_path", "matches"),
    [
        pytest.param("Prefix", "/", "/anything/at/all", True, id="Prefix / matches all paths"),
        pytest.param("Exact", "/foo", "/foo", True, id="Exact /foo matches /foo"),
        pytest.param("Exact", "/foo", "/bar", False, id="Exact /foo does not match /bar"),
        pytest.param("Exact", "/foo", "/foo/", False, id="Exact /foo does not match /foo/"),
        pytest.param("Exact", "/foo/", "/foo", False, id="Exact /foo/ does not match /foo"),
        pytest.param("Prefix", "/foo", "/foo", True, id="Prefix /foo matches /foo"),
        pytest.param("Prefix", "/foo", "/foo/", True, id="Prefix /foo matches /foo/"),
        pytest.param("Prefix", "/foo/", "/foo", True, id="Prefix /foo/ matches /foo"),
        pytest.param("Prefix", "/foo/", "/foo/", True, id="Prefix /foo/ matches /foo/"),
        pytest.param(
            "Prefix", "/aaa/bb", "/aaa/bbb", False, id="Prefix /aaa/bb does not match /aaa/bbb"
        ),
        pytest.param("Prefix", "/aaa/bbb", "/aaa/bbb", True, id="Prefix /aaa/bbb matches /aaa/bbb"),
        pytest.param(
            "Prefix", "/aaa/bbb/", "/aaa/bbb", True, id="trailing slash in the rule is ignored"
        ),
        pytest.param(
            "Prefix", "/aaa/bbb", "/aaa/bbb/", True, id="trailing slash in the request matches"
        ),
        pytest.param("Prefix", "/aaa/bbb", "/aaa/bbb/ccc", True, id="subpath matches"),
        pytest.param("Prefix", "/aaa/bbb", "/aaa/bbbxyz", False, id="no string-prefix match"),
        pytest.param("Prefix", "/foo", "/foobar", False, id="/foo does not match /foobar"),
        pytest.param(
            "ImplementationSpecific",
            "/foo",
            "/foo/bar",
            True,
            id="ImplementationSpecific acts as Prefix",
        ),
    ],
)
def test_match_path_table(kind, rule_path, request_path, matches):
    """Path matching follows the table in the Ingress documentation."""
    assert (match_path(kind, rule_path, request_path) is not None) is matches


@pytest.mark.parametrize(
    ("paths", "request_path", "expected"),
    [
        pytest.param(
            [("/", "Prefix", "docs"), ("/aaa", "Prefix", "api")],
            "/aaa/ccc",
            "api",
            id="/, /aaa: /aaa/ccc uses /aaa",
        ),
        pytest.param(
            [("/", "Prefix", "docs"), ("/aaa", "Prefix", "api"), ("/aaa/bbb", "Prefix", "api-v2")],
            "/aaa/bbb",
            "api-v2",
            id="longest prefix wins",
        ),
        pytest.param(
            [("/", "Prefix", "docs"), ("/aaa", "Prefix", "api"), ("/aaa/bbb", "Prefix", "api-v2")],
            "/ccc",
            "docs",
            id="falls back to /",
        ),
        pytest.param(
            [("/foo", "Prefix", "api"), ("/foo", "Exact", "exact")],
            "/foo",
            "exact",
            id="Exact beats Prefix on the same path",
        ),
        pytest.param(
            [("/foo", "Exact", "exact"), ("/foo/", "Prefix", "api")],
            "/foo",
            "exact",
            id="Exact beats a Prefix of equal element length",
        ),
        pytest.param(
            [("/foo", "Exact", "exact"), ("/foo", "Prefix", "api")],
            "/foo/bar",
            "api",
            id="Exact does not match a subpath",
        ),
        pytest.param([("/api", "Prefix", "api")], "/api?q=1", "api", id="query string ignored"),
    ],
)
def test_best_path_wins(paths, request_path, expected):
    """Among matching paths the longest wins, Exact before Prefix on a tie."""
    ing = ingress("shop", rule("shop.example.com", *paths))
    result = go(Request(host="shop.example.com", path=request_path), [ing])
    assert result.ok, result.error
    assert backend_of(result) == expected


def test_no_match_uses_the_default_backend():
    """With no matching path the Ingress's defaultBackend serves the request."""
    ing = ingress("shop", rule("shop.example.com", ("/aaa", "Prefix", "api")), default="fallback")
    result = go(Request(host="shop.example.com", path="/ccc"), [ing])
    assert result.ok and backend_of(result) == "fallback"
    assert result.hops[0].reason == "no rule matched shop.example.com/ccc; default backend used"


def test_no_match_and_no_default_backend_is_404():
    """Without a match and without a default backend the answer is 404 with a reason."""
    ing = ingress("shop", rule("shop.example.com", ("/aaa", "Prefix", "api")))
    result = go(Request(host="shop.example.com", path="/ccc"), [ing])
    assert (result.ok, result.status, result.pod) == (False, 404, None)
    assert (
        result.error
        == "no Ingress rule matches host shop.example.com path /ccc and there is no default backend"
    )
    assert result.hops[-1].reason == result.error


@pytest.mark.parametrize(
    ("rule_host", "host", "expected"),
    [
        pytest.param("shop.example.com", "shop.example.com", "exact", id="exact"),
        pytest.param(
            "shop.example.com", "SHOP.example.com:8443", "exact", id="case and port ignored"
        ),
        pytest.param(
            "*.example.com", "shop.example.com", "wildcard", id="wildcard matches one label"
        ),
        pytest.param(
            "*.example.com", "a.shop.example.com", None, id="wildcard does not match two labels"
        ),
        pytest.param(
            "*.example.com", "example.com", None, id="wildcard does not match the bare domain"
        ),
        pytest.param("shop.example.com", "docs.example.com", None, id="other host"),
        pytest.param(None, "anything.test", "any", id="rule without host matches any host"),
    ],
)
def test_match_host(rule_host, host, expected):
    """Hosts match exactly or by a one-label wildcard, as the Ingress spec says."""
    assert match_host(rule_host, host) == expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        pytest.param("shop.example.com", "shop", id="exact host beats the wildcard"),
        pytest.param("blog.example.com", "wild", id="wildcard host"),
        pytest.param("other.test", "catchall", id="rule without host catches the rest"),
        pytest.param(None, "catchall", id="no Host header"),
    ],
)
def test_host_selection(host, expected):
    """Exact hosts come before wildcard hosts, which come before rules without a host."""
    ings = [
        ingress("a", rule("*.example.com", ("/", "Prefix", "wild"))),
        ingress("b", rule("shop.example.com", ("/", "Prefix", "shop"))),
        ingress("c", rule(None, ("/", "Prefix", "catchall"))),
    ]
    result = go(Request(host=host, path="/"), ings)
    assert result.ok and backend_of(result) == expected


def test_exact_host_without_matching_path_does_not_fall_through_to_other_hosts():
    """A host's rules are a server of their own: an unmatched path there uses the default
    backend, not the catch-all rules."""
    ings = [
        ingress("b", rule("shop.example.com", ("/api", "Prefix", "api"))),
        ingress("c", rule(None, ("/", "Prefix", "catchall")), default="fallback"),
    ]
    result = go(Request(host="shop.example.com", path="/other"), ings)
    assert backend_of(result) == "fallback"


def test_rule_hop_names_host_path_type_and_tls():
    """The Ingress hop says which rule matched, and notes TLS for a host listed under tls."""
    ing = ingress(
        "shop",
        rule("shop.example.com", ("/api", "Prefix", "api")),
        tls=[{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
    )
    result = go(Request(host="shop.example.com", path="/api/items"), [ing])
    hop = result.hops[0]
    assert (hop.component, hop.target) == ("ingress", "default/shop")
    assert (
        hop.reason
        == "rule shop.example.com /api (Prefix) matched; TLS for shop.example.com terminated with secret shop-tls"
    )


def test_implementation_specific_is_documented_in_the_hop():
    """ImplementationSpecific paths say they were treated as Prefix."""
    ing = ingress("shop", rule("shop.example.com", ("/api", "ImplementationSpecific", "api")))
    result = go(Request(host="shop.example.com", path="/api/x"), [ing])
    assert (
        result.hops[0].reason
        == "rule shop.example.com /api (ImplementationSpecific, as Prefix) matched"
    )


# --------------------------------------------------------------------------------------------
# Services and endpoints


def test_round_robin_spreads_requests_evenly():
    """Successive requests to a Service go to its ready endpoints in turn."""
    state = RoundRobinState()
    picks = [go(Request(service=("default", "web")), state=state).pod[1] for _ in range(9)]
    assert picks[:3] == ["web-abc", "web-ghi", "web-def"]  # endpoints in address order
    assert Counter(picks) == {"web-abc": 3, "web-def": 3, "web-ghi": 3}


def test_endpoint_hop_names_pod_node_and_policy():
    """The endpoint hop names the address, the pod and its node, and how it was picked."""
    result = go(Request(service=("default", "web")))
    assert result.ok and result.status == 200
    assert result.endpoint == "10.244.1.5:8080"
    endpoint_hop = result.hops[1]
    assert (
        endpoint_hop.reason
        == "endpoint 10.244.1.5:8080 (pod web-abc on worker-1) picked by round-robin"
    )
    assert result.hops[0].reason == "service web port 80 (10.96.0.20) has 3 ready endpoints"
    assert result.hops[-1].component == "pod" and result.pod == ("default", "web-abc")


def test_client_ip_affinity_sticks_to_one_endpoint():
    """With sessionAffinity ClientIP a client keeps its endpoint; another client is spread."""
    services = [service("web", affinity=True)]
    state = RoundRobinState()
    first = [
        go(
            Request(service=("default", "web"), client_ip="10.0.0.1"),
            services=services,
            state=state,
        )
        for _ in range(4)
    ]
    assert {r.pod for r in first} == {("default", "web-abc")}
    assert "kept by ClientIP session affinity for 10.0.0.1" in first[1].hops[1].reason
    other = go(
        Request(service=("default", "web"), client_ip="10.0.0.2"), services=services, state=state
    )
    assert other.pod == ("default", "web-ghi")


def test_client_ip_affinity_expires_and_survives_persistence():
    """Affinity ends after timeoutSeconds; the state survives to_dict/from_dict."""
    services = [service("web", affinity=True, timeout=60)]
    state = RoundRobinState()
    go(
        Request(service=("default", "web"), client_ip="10.0.0.1", now=0),
        services=services,
        state=state,
    )
    state = RoundRobinState.from_dict(state.to_dict())
    sticky = go(
        Request(service=("default", "web"), client_ip="10.0.0.1", now=59),
        services=services,
        state=state,
    )
    assert sticky.pod == ("default", "web-abc")
    expired = go(
        Request(service=("default", "web"), client_ip="10.0.0.1", now=200),
        services=services,
        state=state,
    )
    assert expired.pod == ("default", "web-ghi")
    assert "round-robin" in expired.hops[1].reason


def test_not_ready_endpoints_are_excluded():
    """notReadyAddresses never receive traffic, and the service hop counts them."""
    eps = [endpoints("web", [WEB_PODS[0]], not_ready=[WEB_PODS[1], WEB_PODS[2]])]
    state = RoundRobinState()
    picks = {go(Request(service=("default", "web")), eps=eps, state=state).pod for _ in range(5)}
    assert picks == {("default", "web-abc")}
    result = go(Request(service=("default", "web")), eps=eps)
    assert result.hops[0].reason.endswith("; 2 not-ready endpoints skipped")


def test_endpoint_slices_are_understood():
    """EndpointSlices work like Endpoints; endpoints with ready false are skipped."""
    slice_ = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": "web-x1",
            "namespace": "default",
            "labels": {"kubernetes.io/service-name": "web"},
        },
        "ports": [{"port": 8080, "protocol": "TCP"}],
        "endpoints": [
            {
                "addresses": ["10.244.1.5"],
                "conditions": {"ready": False},
                "nodeName": "worker-1",
                "targetRef": {"kind": "Pod", "name": "web-abc", "namespace": "default"},
            },
            {
                "addresses": ["10.244.2.7"],
                "conditions": {"ready": True},
                "nodeName": "worker-2",
                "targetRef": {"kind": "Pod", "name": "web-def", "namespace": "default"},
            },
        ],
    }
    result = go(Request(service=("default", "web")), eps=[slice_])
    assert result.pod == ("default", "web-def")


@pytest.mark.parametrize(
    ("eps", "services", "status", "error"),
    [
        pytest.param(
            [endpoints("web", [])],
            SERVICES,
            503,
            'no endpoints available for service "web"',
            id="no endpoints at all",
        ),
        pytest.param(
            [endpoints("web", [], not_ready=WEB_PODS)],
            SERVICES,
            503,
            'no endpoints available for service "web"',
            id="only not-ready endpoints",
        ),
        pytest.param(
            [], SERVICES, 503, 'no endpoints available for service "web"', id="no Endpoints object"
        ),
        pytest.param(ENDPOINTS, [], 503, 'services "web" not found', id="service missing"),
    ],
)
def test_service_failures_are_503(eps, services, status, error):
    """A missing Service or one without ready endpoints answers 503 with Kubernetes' text."""
    result = go(Request(service=("default", "web")), services=services, eps=eps)
    assert (result.ok, result.status, result.error, result.pod) == (False, status, error, None)


def test_ingress_to_a_service_without_endpoints_is_503():
    """An Ingress rule that matches but whose Service has no ready pod gives 503."""
    ing = ingress("shop", rule("shop.example.com", ("/", "Prefix", "web")))
    result = go(Request(host="shop.example.com", path="/"), [ing], eps=[endpoints("web", [])])
    assert result.status == 503 and result.error == 'no endpoints available for service "web"'
    assert [h.component for h in result.hops] == ["ingress", "kube-proxy"]


def test_ingress_request_reaches_a_pod_through_every_hop():
    """A matched Ingress request passes ingress, service, endpoint and pod hops."""
    ing = ingress("shop", rule("shop.example.com", ("/", "Prefix", "web")))
    result = go(Request(host="shop.example.com", path="/cart"), [ing])
    assert [h.component for h in result.hops] == ["ingress", "kube-proxy", "kube-proxy", "pod"]
    assert result.ok and result.pod == ("default", "web-abc")


@pytest.mark.parametrize(
    ("node_port", "ok", "pod"),
    [
        pytest.param(30080, True, ("default", "web-abc"), id="known node port"),
        pytest.param(30999, False, None, id="unknown node port"),
    ],
)
def test_node_port_resolves_the_service(node_port, ok, pod):
    """A node port leads to the Service that owns it."""
    services = [service("web", node_port=30080)]
    result = go(Request(node_port=node_port), services=services)
    assert result.ok is ok and result.pod == pod
    if ok:
        assert result.hops[0].reason == "node port 30080 belongs to service default/web port 80"
    else:
        assert result.status == 503 and result.error == "no service uses node port 30999"


@pytest.mark.parametrize(
    ("port", "ok"),
    [
        pytest.param(None, True, id="no port: the first"),
        pytest.param(80, True, id="by number"),
        pytest.param("http", True, id="by name"),
        pytest.param(8443, False, id="unknown port"),
    ],
)
def test_service_port_lookup(port, ok):
    """The service port is found by number or name; an unknown port is an error."""
    services = [service("web", ports=[{"name": "http", "port": 80, "targetPort": 8080}])]
    eps = [endpoints("web", WEB_PODS, port_name="http")]
    result = go(Request(service=("default", "web"), port=port), services=services, eps=eps)
    assert result.ok is ok
    if not ok:
        assert result.error == "service web has no port 8443"
