"""Validation of Services, Ingresses and Endpoints: Kubernetes v1.32's rules and messages.

Every object goes through ``apply_defaults`` first, as on the write path. The fuzz tests at the
end throw odd JSON at every field and expect field errors back, never an exception.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Iterator
from typing import Any

import pytest

from cluster.store.defaults import apply_defaults
from cluster.store.errors import FieldError
from cluster.store.validation import validate, validate_update
from cluster.store.validation.network import parse_cidr_sloppy, parse_ip_sloppy

DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
WILDCARD_MSG = (
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which "
    "must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric "
    "character (e.g. '*.example.com', regex used for validation is "
    "'\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
IP_MSG = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
RANGE_MSG = "must be between 1 and 65535, inclusive"


def problems(obj: dict) -> list[str]:
    """Every error the write path would report for ``obj`` on create."""
    return [str(error) for error in validate(apply_defaults(obj))]


def update_problems(old: dict, new: dict) -> list[str]:
    return [str(error) for error in validate_update(apply_defaults(old), apply_defaults(new))]


def errors_of(obj: dict) -> list[FieldError]:
    return validate(apply_defaults(obj))


# --- builders --------------------------------------------------------------------------------


def service(name: str = "web", **spec: Any) -> dict:
    """A valid ClusterIP Service on port 80; ``spec`` keys replace or add fields."""
    body = {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}
    body.update(spec)
    body = {k: v for k, v in body.items() if v is not ...}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": body,
    }


def two_ports(first: dict, second: dict) -> list[dict]:
    return [{"port": 80, "targetPort": 8080, **first}, {"port": 443, "targetPort": 8443, **second}]


def ingress(**spec: Any) -> dict:
    body = {
        "rules": [
            {
                "host": "shop.example.com",
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": "web", "port": {"number": 80}}},
                        }
                    ]
                },
            }
        ]
    }
    body.update(spec)
    body = {k: v for k, v in body.items() if v is not ...}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "shop", "namespace": "default"},
        "spec": body,
    }


def ingress_path(**fields: Any) -> dict:
    """An Ingress with one rule and one path; ``fields`` replace the path's fields."""
    path = {
        "path": "/",
        "pathType": "Prefix",
        "backend": {"service": {"name": "web", "port": {"number": 80}}},
    }
    path.update(fields)
    path = {k: v for k, v in path.items() if v is not ...}
    return ingress(rules=[{"host": "shop.example.com", "http": {"paths": [path]}}])


def backend_port(port: Any) -> dict:
    return ingress_path(backend={"service": {"name": "web", "port": port}})


def endpoints(subsets: list) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "web", "namespace": "default"},
        "subsets": subsets,
    }


def subset(ip: str = "10.244.1.5", ports: list | None = None) -> dict:
    return {"addresses": [{"ip": ip}], "ports": ports or [{"port": 8080}]}


# --- Service ---------------------------------------------------------------------------------

VALID_SERVICES = [
    pytest.param(service(), id="ClusterIP with one unnamed port"),
    pytest.param(service(type="NodePort"), id="NodePort, node port left to the allocator"),
    pytest.param(
        service(type="NodePort", ports=[{"port": 80, "nodePort": 30080}]),
        id="NodePort with a node port in range",
    ),
    pytest.param(
        service(type="LoadBalancer", externalTrafficPolicy="Local"),
        id="LoadBalancer with local traffic policy",
    ),
    pytest.param(service(clusterIP="None", ports=...), id="headless without ports"),
    pytest.param(service(clusterIP="None", selector=...), id="headless without selector"),
    pytest.param(
        service(type="ExternalName", externalName="db.example.com", ports=..., selector=...),
        id="ExternalName",
    ),
    pytest.param(
        service(type="ExternalName", externalName="db.example.com."),
        id="ExternalName with a trailing dot",
    ),
    pytest.param(
        service(ports=two_ports({"name": "http"}, {"name": "https"})), id="two named ports"
    ),
    pytest.param(
        service(
            ports=two_ports(
                {"name": "dns", "protocol": "UDP", "port": 53},
                {"name": "dns-tcp", "protocol": "TCP", "port": 53},
            )
        ),
        id="same port number over two protocols",
    ),
    pytest.param(service(ports=[{"port": 80, "targetPort": "http"}]), id="named target port"),
    pytest.param(service(clusterIP="10.96.0.50"), id="requested cluster IP in range"),
    pytest.param(service(sessionAffinity="ClientIP"), id="client IP affinity, defaulted timeout"),
    pytest.param(
        service(
            sessionAffinity="ClientIP",
            sessionAffinityConfig={"clientIP": {"timeoutSeconds": 86400}},
        ),
        id="client IP affinity for a day",
    ),
    pytest.param(service(externalIPs=["192.0.2.10"]), id="external IP"),
    pytest.param(
        service(
            type="LoadBalancer",
            loadBalancerSourceRanges=["10.0.0.0/8"],
            loadBalancerClass="example.com/lb",
        ),
        id="load balancer extras",
    ),
    pytest.param(
        service(ports=[{"port": 80, "appProtocol": "kubernetes.io/h2c"}]), id="app protocol"
    ),
]


@pytest.mark.parametrize("obj", VALID_SERVICES)
def test_valid_services_have_no_errors(obj):
    """Well-formed Services of every type validate cleanly."""
    assert problems(obj) == []


SERVICE_ERRORS = [
    pytest.param(
        service(ports=[{"port": 0, "targetPort": 8080}]),
        [f"spec.ports[0].port: Invalid value: 0: {RANGE_MSG}"],
        id="port 0",
    ),
    pytest.param(
        service(ports=[{"port": 70000, "targetPort": 8080}]),
        [f"spec.ports[0].port: Invalid value: 70000: {RANGE_MSG}"],
        id="port 70000",
    ),
    pytest.param(
        service(ports=[{"targetPort": 8080}]),
        [f"spec.ports[0].port: Invalid value: 0: {RANGE_MSG}"],
        id="missing port reads as 0",
    ),
    pytest.param(
        service(ports=[{"port": "80", "targetPort": 8080}]),
        ['spec.ports[0].port: Invalid value: "80": must be an integer'],
        id="port given as a string",
    ),
    pytest.param(
        service(ports=two_ports({"name": "http"}, {})),
        ["spec.ports[1].name: Required value"],
        id="second port unnamed",
    ),
    pytest.param(
        service(ports=two_ports({"name": "http"}, {"name": "http"})),
        ['spec.ports[1].name: Duplicate value: "http"'],
        id="duplicate port names",
    ),
    pytest.param(
        service(ports=[{"port": 80, "name": "HTTP"}]),
        [f'spec.ports[0].name: Invalid value: "HTTP": {DNS1123_LABEL_MSG}'],
        id="port name not a DNS label",
    ),
    pytest.param(
        service(ports=[{"port": 80, "protocol": "ICMP"}]),
        [
            'spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", '
            '"TCP", "UDP"'
        ],
        id="unsupported protocol",
    ),
    pytest.param(
        service(ports=[{"port": 80, "targetPort": "8080"}]),
        ['spec.ports[0].targetPort: Invalid value: "8080": must contain at least one letter (a-z)'],
        id="target port digits in a string are a name",
    ),
    pytest.param(
        service(ports=[{"port": 80, "targetPort": -1}]),
        [f"spec.ports[0].targetPort: Invalid value: -1: {RANGE_MSG}"],
        id="negative target port",
    ),
    pytest.param(
        service(ports=[{"port": 80, "targetPort": "web--http"}]),
        [
            'spec.ports[0].targetPort: Invalid value: "web--http": must not contain '
            "consecutive hyphens"
        ],
        id="target port name with double hyphen",
    ),
    pytest.param(
        service(ports=[{"port": 80, "nodePort": 30080}]),
        ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"],
        id="node port on a ClusterIP service",
    ),
    pytest.param(
        service(type="NodePort", ports=[{"port": 80, "nodePort": 80}]),
        [
            "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid "
            "range. The range of valid ports is 30000-32767"
        ],
        id="node port below range",
    ),
    pytest.param(
        service(type="NodePort", ports=[{"port": 80, "nodePort": 32768}]),
        [
            "spec.ports[0].nodePort: Invalid value: 32768: provided port is not in the "
            "valid range. The range of valid ports is 30000-32767"
        ],
        id="node port above range",
    ),
    pytest.param(
        service(
            type="NodePort",
            ports=two_ports({"name": "a", "nodePort": 30080}, {"name": "b", "nodePort": 30080}),
        ),
        ["spec.ports[1].nodePort: Duplicate value: 30080"],
        id="duplicate node ports",
    ),
    pytest.param(
        service(ports=two_ports({"name": "a"}, {"name": "b", "port": 80})),
        ['spec.ports[1]: Duplicate value: {"port":80,"protocol":"TCP"}'],
        id="duplicate port and protocol",
    ),
    pytest.param(service(ports=...), ["spec.ports: Required value"], id="ClusterIP without ports"),
    pytest.param(service(ports=[]), ["spec.ports: Required value"], id="empty port list"),
    pytest.param(
        service(clusterIP="abc"),
        [f'spec.clusterIPs[0]: Invalid value: "abc": {IP_MSG}'],
        id="cluster IP that is not an address",
    ),
    pytest.param(
        service(clusterIP="10.96.0.10", clusterIPs=["10.96.0.11"]),
        ['spec.clusterIPs: Invalid value: ["10.96.0.11"]: first value must match `clusterIP`'],
        id="clusterIP and clusterIPs disagree",
    ),
    pytest.param(
        service(type="Foo"),
        [
            'spec.type: Unsupported value: "Foo": supported values: "ClusterIP", '
            '"ExternalName", "LoadBalancer", "NodePort"'
        ],
        id="unknown type",
    ),
    pytest.param(
        service(sessionAffinity="Sticky"),
        ['spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"'],
        id="unknown session affinity",
    ),
    pytest.param(
        service(
            sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": 0}}
        ),
        [
            "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be "
            "greater than 0 and less than 86400"
        ],
        id="affinity timeout 0",
    ),
    pytest.param(
        service(
            sessionAffinity="ClientIP",
            sessionAffinityConfig={"clientIP": {"timeoutSeconds": 86401}},
        ),
        [
            "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: "
            "must be greater than 0 and less than 86400"
        ],
        id="affinity timeout too long",
    ),
    pytest.param(
        service(type="ExternalName", ports=..., selector=...),
        ["spec.externalName: Required value"],
        id="ExternalName without a name",
    ),
    pytest.param(
        service(type="ExternalName", externalName="Bad_Host"),
        [f'spec.externalName: Invalid value: "Bad_Host": {DNS1123_SUBDOMAIN_MSG}'],
        id="ExternalName not a DNS name",
    ),
    pytest.param(
        service(type="ExternalName", externalName="db.example.com", clusterIP="10.96.0.5"),
        ["spec.clusterIPs: Forbidden: may not be set for ExternalName services"],
        id="ExternalName with a cluster IP",
    ),
    pytest.param(
        service(type="LoadBalancer", clusterIP="None"),
        [
            "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for "
            "LoadBalancer services"
        ],
        id="headless LoadBalancer",
    ),
    pytest.param(
        service(type="NodePort", clusterIP="None"),
        [
            "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for "
            "NodePort services"
        ],
        id="headless NodePort",
    ),
    pytest.param(
        service(externalTrafficPolicy="Local"),
        [
            'spec.externalTrafficPolicy: Invalid value: "Local": may only be set for '
            "externally-accessible services"
        ],
        id="traffic policy on a ClusterIP service",
    ),
    pytest.param(
        service(type="NodePort", externalTrafficPolicy="Sometimes"),
        [
            'spec.externalTrafficPolicy: Unsupported value: "Sometimes": supported values: '
            '"Cluster", "Local"'
        ],
        id="unknown external traffic policy",
    ),
    pytest.param(
        service(internalTrafficPolicy="Nearby"),
        [
            'spec.internalTrafficPolicy: Unsupported value: "Nearby": supported values: '
            '"Cluster", "Local"'
        ],
        id="unknown internal traffic policy",
    ),
    pytest.param(
        service(externalIPs=["127.0.0.1"]),
        [
            'spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback '
            "range (127.0.0.0/8, ::1/128)"
        ],
        id="loopback external IP",
    ),
    pytest.param(
        service(externalIPs=["1.2.3"]),
        [f'spec.externalIPs[0]: Invalid value: "1.2.3": {IP_MSG}'],
        id="external IP that is not an address",
    ),
    pytest.param(
        service(loadBalancerSourceRanges=["10.0.0.0/8"]),
        [
            "spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is "
            "'LoadBalancer'"
        ],
        id="source ranges on a ClusterIP service",
    ),
    pytest.param(
        service(type="LoadBalancer", loadBalancerSourceRanges=["10.0.0.0/33"]),
        [
            'spec.LoadBalancerSourceRanges[0]: Invalid value: "10.0.0.0/33": must be a '
            "valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
        ],
        id="source range that is not a CIDR",
    ),
    pytest.param(
        service(healthCheckNodePort=30100),
        [
            "spec.healthCheckNodePort: Invalid value: 30100: may only be set when `type` "
            "is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"
        ],
        id="health check port without a local load balancer",
    ),
    pytest.param(
        service(type="NodePort", loadBalancerClass="example.com/lb"),
        ["spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'"],
        id="load balancer class on a NodePort service",
    ),
    pytest.param(
        service(allocateLoadBalancerNodePorts=False),
        [
            "spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` "
            "is 'LoadBalancer'"
        ],
        id="node port allocation flag on a ClusterIP service",
    ),
    pytest.param(
        service(ipFamilies=["IPv5"]),
        ['spec.ipFamilies[0]: Unsupported value: "IPv5": supported values: "IPv4", "IPv6"'],
        id="unknown IP family",
    ),
    pytest.param(
        service(trafficDistribution="Anywhere"),
        [
            'spec.trafficDistribution: Unsupported value: "Anywhere": supported values: '
            '"PreferClose"'
        ],
        id="unknown traffic distribution",
    ),
]


@pytest.mark.parametrize(("obj", "expected"), SERVICE_ERRORS)
def test_invalid_services_get_kubernetes_messages(obj, expected):
    """Each broken Service gets exactly Kubernetes' error, and nothing else."""
    assert problems(obj) == expected


def test_selector_labels_are_validated():
    """A selector value that is not a label value is refused at spec.selector."""
    found = problems(service(selector={"app": "bad value!"}))
    assert len(found) == 1 and found[0].startswith('spec.selector: Invalid value: "bad value!"')


def test_service_spec_of_the_wrong_shape_is_reported():
    """A spec that is a list is reported as such, with the fields it then lacks."""
    found = problems(service() | {"spec": ["not", "a", "map"]})
    assert found[0] == 'spec: Invalid value: ["not","a","map"]: must be an object'
    assert "spec.ports: Required value" in found


def test_cluster_ip_outside_the_service_cidr_cannot_be_allocated():
    """A requested cluster IP outside 10.96.0.0/12 fails as the allocator fails it."""
    [error] = errors_of(service(clusterIP="1.2.3.4"))
    assert (error.field, error.type, error.value) == (
        "spec.clusterIPs",
        "FieldValueInvalid",
        ["1.2.3.4"],
    )
    assert error.detail == (
        "failed to allocate IP 1.2.3.4: the provided IP (1.2.3.4) is not in "
        "the valid range. The range of valid IPs is 10.96.0.0/12"
    )


SERVICE_UPDATES = [
    pytest.param(
        service(clusterIP="10.96.0.20"), service(clusterIP="10.96.0.20"), [], id="same cluster IP"
    ),
    pytest.param(
        service(clusterIP="10.96.0.20"),
        service(clusterIP="10.96.0.20", ports=[{"port": 8080}]),
        [],
        id="ports may change",
    ),
    pytest.param(
        service(clusterIP="10.96.0.20"),
        service(clusterIP="10.96.0.20", type="NodePort"),
        [],
        id="ClusterIP to NodePort keeps the IP",
    ),
    pytest.param(
        service(type="ExternalName", externalName="db.example.com"),
        service(clusterIP="10.96.0.30"),
        [],
        id="from ExternalName an IP may be set",
    ),
    pytest.param(
        service(clusterIP="10.96.0.20"),
        service(type="ExternalName", externalName="db.example.com"),
        [],
        id="to ExternalName the IP goes",
    ),
    pytest.param(
        service(clusterIP="None", ports=...),
        service(clusterIP="None"),
        [],
        id="headless stays headless",
    ),
    pytest.param(
        service(clusterIP="10.96.0.20"),
        service(clusterIP="10.96.0.21"),
        [("spec.clusterIPs[0]", ["10.96.0.21"], "may not change once set")],
        id="cluster IP changed",
    ),
    pytest.param(
        service(clusterIP="10.96.0.20"),
        service(clusterIP="None"),
        [("spec.clusterIPs[0]", ["None"], "may not change once set")],
        id="cluster IP to headless",
    ),
    pytest.param(
        service(type="LoadBalancer", loadBalancerClass="a.io/lb"),
        service(type="LoadBalancer", loadBalancerClass="b.io/lb"),
        [("spec.loadBalancerClass", "b.io/lb", "may not change once set")],
        id="load balancer class changed",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), SERVICE_UPDATES)
def test_service_updates_keep_allocated_addresses(old, new, expected):
    """A Service's cluster IP may not change once set, except to or from ExternalName."""
    found = validate_update(apply_defaults(old), apply_defaults(new))
    assert [(e.field, e.value, e.detail) for e in found] == expected


def test_changed_cluster_ip_message():
    """The message names the first cluster IP and says it may not change."""
    [message] = update_problems(service(clusterIP="10.96.0.20"), service(clusterIP="10.96.0.21"))
    assert message.startswith("spec.clusterIPs[0]: Invalid value: ")
    assert message.endswith('10.96.0.21"]: may not change once set')


# --- Ingress ---------------------------------------------------------------------------------

VALID_INGRESSES = [
    pytest.param(ingress(), id="one rule"),
    pytest.param(
        ingress(rules=..., defaultBackend={"service": {"name": "web", "port": {"name": "http"}}}),
        id="default backend only",
    ),
    pytest.param(
        ingress(
            rules=[
                {
                    "host": "*.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Exact",
                                "backend": {"service": {"name": "web", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ]
        ),
        id="wildcard host",
    ),
    pytest.param(
        ingress_path(pathType="ImplementationSpecific", path=...),
        id="implementation-specific path may be empty",
    ),
    pytest.param(
        ingress_path(
            backend={
                "resource": {
                    "apiGroup": "k8s.example.com",
                    "kind": "StorageBucket",
                    "name": "assets",
                }
            }
        ),
        id="resource backend",
    ),
    pytest.param(
        ingress(
            tls=[{"hosts": ["shop.example.com", "*.example.com"], "secretName": "shop-tls"}],
            ingressClassName="nginx",
        ),
        id="TLS and a class",
    ),
    pytest.param(ingress(rules=[{"host": "shop.example.com"}]), id="rule without http"),
]


@pytest.mark.parametrize("obj", VALID_INGRESSES)
def test_valid_ingresses_have_no_errors(obj):
    """Well-formed Ingresses validate cleanly."""
    assert problems(obj) == []


PATH = "spec.rules[0].http.paths[0]"
PORT = f"{PATH}.backend.service.port"

INGRESS_ERRORS = [
    pytest.param(
        ingress_path(path="api"),
        [f'{PATH}.path: Invalid value: "api": must be an absolute path'],
        id="relative path",
    ),
    pytest.param(
        ingress_path(path=...),
        [f'{PATH}.path: Invalid value: "": must be an absolute path'],
        id="prefix path missing",
    ),
    pytest.param(
        ingress_path(pathType="ImplementationSpecific", path="api"),
        [f'{PATH}.path: Invalid value: "api": must be an absolute path'],
        id="relative implementation-specific path",
    ),
    pytest.param(
        ingress_path(pathType=...),
        [f"{PATH}.pathType: Required value: pathType must be specified"],
        id="pathType missing",
    ),
    pytest.param(
        ingress_path(pathType="Regex"),
        [
            f'{PATH}.pathType: Unsupported value: "Regex": supported values: "Exact", '
            '"ImplementationSpecific", "Prefix"'
        ],
        id="unknown pathType",
    ),
    pytest.param(
        ingress_path(path="/a//b"),
        [f"{PATH}.path: Invalid value: \"/a//b\": must not contain '//'"],
        id="double slash",
    ),
    pytest.param(
        ingress_path(path="/a/.."),
        [f"{PATH}.path: Invalid value: \"/a/..\": cannot end with '/..'"],
        id="ends with a backstep",
    ),
    pytest.param(
        ingress_path(backend={}),
        [f'{PATH}.backend: Invalid value: "": resource or service backend is required'],
        id="empty backend",
    ),
    pytest.param(
        ingress_path(
            backend={
                "service": {"name": "web", "port": {"number": 80}},
                "resource": {"kind": "Bucket", "name": "b"},
            }
        ),
        [f'{PATH}.backend: Invalid value: "": cannot set both resource and service backends'],
        id="both backends",
    ),
    pytest.param(
        ingress_path(backend={"service": {"port": {"number": 80}}}),
        [f"{PATH}.backend.service.name: Required value"],
        id="service name missing",
    ),
    pytest.param(
        ingress_path(backend={"service": {"name": "1web", "port": {"number": 80}}}),
        [f'{PATH}.backend.service.name: Invalid value: "1web": {DNS1035_LABEL_MSG}'],
        id="service name not a DNS-1035 label",
    ),
    pytest.param(
        backend_port({}),
        [f"{PORT}: Required value: port name or number is required"],
        id="port empty",
    ),
    pytest.param(
        backend_port(None),
        [f"{PORT}: Required value: port name or number is required"],
        id="port missing",
    ),
    pytest.param(
        backend_port({"number": 0}),
        [f"{PORT}: Required value: port name or number is required"],
        id="port number 0 is unset",
    ),
    pytest.param(
        backend_port({"number": "http"}),
        [f'{PORT}.number: Invalid value: "http": must be an integer'],
        id="port number given a name",
    ),
    pytest.param(
        backend_port({"name": 80}),
        [f"{PORT}.name: Invalid value: 80: must be a string"],
        id="port name given a number",
    ),
    pytest.param(
        backend_port(80),
        [f"{PORT}: Invalid value: 80: must be an object"],
        id="port given as a bare number",
    ),
    pytest.param(
        backend_port({"number": 70000}),
        [f"{PORT}.number: Invalid value: 70000: {RANGE_MSG}"],
        id="port number too big",
    ),
    pytest.param(
        backend_port({"name": "http--alt"}),
        [f'{PORT}.name: Invalid value: "http--alt": must not contain consecutive hyphens'],
        id="port name with double hyphen",
    ),
    pytest.param(
        ingress(rules=..., defaultBackend={"service": {"name": "web", "port": {}}}),
        ["spec.defaultBackend.service.port: Required value: port name or number is required"],
        id="default backend without a port",
    ),
    pytest.param(
        ingress(
            rules=[
                {
                    "host": "1.2.3.4",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "web", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ]
        ),
        ['spec.rules[0].host: Invalid value: "1.2.3.4": must be a DNS name, not an IP address'],
        id="IP address as host",
    ),
    pytest.param(
        ingress(rules=[{"host": "*.*.example.com"}]),
        [f'spec.rules[0].host: Invalid value: "*.*.example.com": {WILDCARD_MSG}'],
        id="double wildcard host",
    ),
    pytest.param(
        ingress(rules=[{"host": "Shop.example.com"}]),
        [f'spec.rules[0].host: Invalid value: "Shop.example.com": {DNS1123_SUBDOMAIN_MSG}'],
        id="upper-case host",
    ),
    pytest.param(
        ingress(rules=[{"host": "shop.example.com", "http": {"paths": []}}]),
        ["spec.rules[0].http.paths: Required value"],
        id="http without paths",
    ),
    pytest.param(
        ingress(tls=[{"hosts": ["Bad_Host"]}]),
        [f'spec.tls[0].hosts[0]: Invalid value: "Bad_Host": {DNS1123_SUBDOMAIN_MSG}'],
        id="TLS host not a DNS name",
    ),
    pytest.param(
        ingress(tls=[{"secretName": "Bad_Name"}]),
        [f'spec.tls[0].secretName: Invalid value: "Bad_Name": {DNS1123_SUBDOMAIN_MSG}'],
        id="TLS secret name not a DNS name",
    ),
    pytest.param(
        ingress(ingressClassName="Nginx"),
        [f'spec.ingressClassName: Invalid value: "Nginx": {DNS1123_SUBDOMAIN_MSG}'],
        id="class name not a DNS name",
    ),
]


@pytest.mark.parametrize(("obj", "expected"), INGRESS_ERRORS)
def test_invalid_ingresses_get_kubernetes_messages(obj, expected):
    """Each broken Ingress gets exactly one error, naming the bad field."""
    assert problems(obj) == expected


def test_ingress_needs_rules_or_a_default_backend():
    """An Ingress with neither rules nor a default backend is refused at spec."""
    [error] = errors_of(ingress(rules=[]))
    assert (error.field, error.detail) == (
        "spec",
        "either `defaultBackend` or `rules` must be specified",
    )


def test_ingress_port_with_name_and_number_is_refused():
    """A backend port may have a name or a number, not both."""
    [error] = errors_of(backend_port({"name": "http", "number": 80}))
    assert (error.field, error.detail) == (PORT, "cannot set both port name & port number")


def test_ingress_class_annotation_must_agree_with_the_field():
    """The legacy class annotation and ingressClassName may not disagree."""
    obj = ingress(ingressClassName="nginx")
    obj["metadata"]["annotations"] = {"kubernetes.io/ingress.class": "traefik"}
    assert problems(obj) == [
        'annotations.kubernetes.io/ingress.class: Invalid value: "traefik": must match '
        "`ingressClassName` when both are specified"
    ]


# --- Endpoints -------------------------------------------------------------------------------

VALID_ENDPOINTS = [
    pytest.param(endpoints([subset()]), id="one address, one port"),
    pytest.param(endpoints([]), id="no subsets"),
    pytest.param(
        endpoints(
            [
                {
                    "notReadyAddresses": [{"ip": "10.244.2.7", "nodeName": "worker-2"}],
                    "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}],
                }
            ]
        ),
        id="not-ready addresses and named ports",
    ),
    pytest.param(endpoints([subset(ip="fd00::5")]), id="IPv6 address"),
    pytest.param(
        endpoints([{"addresses": [{"ip": "10.244.1.5", "hostname": "db-0"}]}]),
        id="headless: no ports",
    ),
]


@pytest.mark.parametrize("obj", VALID_ENDPOINTS)
def test_valid_endpoints_have_no_errors(obj):
    """Endpoints as the endpoints controller writes them validate cleanly."""
    assert problems(obj) == []


ENDPOINTS_ERRORS = [
    pytest.param(
        endpoints([{"ports": [{"port": 80}]}]),
        ["subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`"],
        id="subset without addresses",
    ),
    pytest.param(
        endpoints([subset(ip="not-an-ip")]),
        [
            f'subsets[0].addresses[0].ip: Invalid value: "not-an-ip": {IP_MSG}',
            'subsets[0].addresses[0].ip: Invalid value: "not-an-ip": must be a valid IP address',
        ],
        id="not an address (reported twice, as Kubernetes does)",
    ),
    pytest.param(
        endpoints([subset(ip="127.0.0.1")]),
        [
            'subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the '
            "loopback range (127.0.0.0/8, ::1/128)"
        ],
        id="loopback",
    ),
    pytest.param(
        endpoints([subset(ip="169.254.10.1")]),
        [
            'subsets[0].addresses[0].ip: Invalid value: "169.254.10.1": may not be in the '
            "link-local range (169.254.0.0/16, fe80::/10)"
        ],
        id="link-local",
    ),
    pytest.param(
        endpoints([subset(ip="224.0.0.5")]),
        [
            'subsets[0].addresses[0].ip: Invalid value: "224.0.0.5": may not be in the '
            "link-local multicast range (224.0.0.0/24, ff02::/10)"
        ],
        id="link-local multicast",
    ),
    pytest.param(
        endpoints([subset(ip="0.0.0.0")]),
        ['subsets[0].addresses[0].ip: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)'],
        id="unspecified",
    ),
    pytest.param(
        endpoints([subset(ports=[{"port": 0}])]),
        [f"subsets[0].ports[0].port: Invalid value: 0: {RANGE_MSG}"],
        id="port 0",
    ),
    pytest.param(
        endpoints([subset(ports=[{"port": 80, "protocol": "ICMP"}])]),
        [
            'subsets[0].ports[0].protocol: Unsupported value: "ICMP": supported values: '
            '"SCTP", "TCP", "UDP"'
        ],
        id="unsupported protocol",
    ),
    pytest.param(
        endpoints([subset(ports=[{"port": 80}, {"port": 443}])]),
        ["subsets[0].ports[0].name: Required value", "subsets[0].ports[1].name: Required value"],
        id="two unnamed ports",
    ),
    pytest.param(
        endpoints([{"addresses": [{"ip": "10.244.1.5", "hostname": "DB"}]}]),
        [f'subsets[0].addresses[0].hostname: Invalid value: "DB": {DNS1123_LABEL_MSG}'],
        id="hostname not a DNS label",
    ),
]


@pytest.mark.parametrize(("obj", "expected"), ENDPOINTS_ERRORS)
def test_invalid_endpoints_get_kubernetes_messages(obj, expected):
    """Each broken Endpoints object gets Kubernetes' errors."""
    assert problems(obj) == expected


# --- address parsing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("10.96.0.10", "10.96.0.10", id="IPv4"),
        pytest.param("010.096.000.010", "10.96.0.10", id="leading zeros read as decimal"),
        pytest.param("2001:db8::1", "2001:db8::1", id="IPv6"),
        pytest.param("::ffff:1.2.3.4", "::ffff:102:304", id="IPv4-mapped IPv6"),
        pytest.param("256.1.1.1", None, id="octet too big"),
        pytest.param("1.2.3", None, id="three octets"),
        pytest.param("1.2.3.4.5", None, id="five octets"),
        pytest.param("1.2.3.4 ", None, id="trailing space"),
        pytest.param("fe80::1%eth0", None, id="zone"),
        pytest.param("example.com", None, id="host name"),
        pytest.param("\u0661.\u0662.\u0663.\u0664", None, id="non-ASCII digits"),
        pytest.param("", None, id="empty"),
        pytest.param(10, None, id="not a string"),
    ],
)
def test_ip_addresses_parse_like_kubernetes(text, expected):
    """IP parsing follows ParseIPSloppy, the parser Kubernetes v1.32 validates with."""
    parsed = parse_ip_sloppy(text)
    assert (str(parsed) if parsed is not None else None) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("10.244.1.0/24", "10.244.1.0/24", id="subnet"),
        pytest.param("10.244.1.7/24", "10.244.1.0/24", id="interface address"),
        pytest.param("10.0.0.0/024", "10.0.0.0/24", id="prefix with a leading zero"),
        pytest.param("2001:db8::/64", "2001:db8::/64", id="IPv6"),
        pytest.param("10.0.0.0", None, id="no prefix"),
        pytest.param("10.0.0.0/33", None, id="prefix too long"),
        pytest.param("10.0.0.0/255.0.0.0", None, id="netmask"),
        pytest.param("10.0.0.0/", None, id="empty prefix"),
        pytest.param(None, None, id="not a string"),
    ],
)
def test_cidrs_parse_like_kubernetes(text, expected):
    """CIDR parsing follows ParseCIDRSloppy: host bits allowed, a numeric prefix required."""
    parsed = parse_cidr_sloppy(text)
    assert (str(parsed) if parsed is not None else None) == expected
    if parsed is not None:
        assert isinstance(parsed, ipaddress.IPv4Network | ipaddress.IPv6Network)


# --- fuzz: odd JSON at every field -----------------------------------------------------------

ODD_VALUES: list[Any] = [
    None,
    0,
    -1,
    1.5,
    True,
    "",
    "x" * 300,
    "\u2603",
    "None",
    "10.96.0.1",
    "/",
    "*",
    [],
    {},
    [None],
    [{}],
    [[]],
    {"a": None},
    {"": ""},
    {"name": {}},
    2**70,
]


def _paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every path into a JSON value (dict keys and list indexes), parents first."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for name, item in items:
        yield prefix + (name,)
        yield from _paths(item, prefix + (name,))


def _replaced(obj: dict, path: tuple, new: Any) -> dict:
    result = copy.deepcopy(obj)
    target = result
    for step in path[:-1]:
        target = target[step]
    if new is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = copy.deepcopy(new)
    return result


def odd_variants(obj: dict) -> Iterator[dict]:
    """``obj`` with each field (outside metadata and kind) replaced by each odd value, or removed."""
    for path in _paths(obj):
        if path[0] in ("kind", "metadata"):
            continue
        for value in [*ODD_VALUES, ...]:
            if value is ... and isinstance(path[-1], int):
                continue
            yield _replaced(obj, path, value)


def assert_only_field_errors(found: Any) -> None:
    assert isinstance(found, list)
    for error in found:
        assert isinstance(error, FieldError), error
        assert str(error) and error.as_cause()["field"] == error.field


def check_never_raises(valid: dict) -> int:
    """Validate every odd variant of ``valid`` (as new, and as an update either way)."""
    good = apply_defaults(valid)
    count = 0
    for variant in odd_variants(valid):
        for candidate in (variant, apply_defaults(variant)):
            assert_only_field_errors(validate(candidate))
            assert_only_field_errors(validate_update(good, candidate))
            assert_only_field_errors(validate_update(candidate, good))
        count += 1
    return count


FUZZ_SEEDS = [
    pytest.param(
        service(
            type="LoadBalancer",
            sessionAffinity="ClientIP",
            externalIPs=["192.0.2.1"],
            loadBalancerSourceRanges=["10.0.0.0/8"],
            ports=two_ports(
                {"name": "http", "nodePort": 30080}, {"name": "https", "appProtocol": "https"}
            ),
        ),
        id="Service",
    ),
    pytest.param(
        service(type="ExternalName", externalName="db.example.com"), id="ExternalName Service"
    ),
    pytest.param(
        ingress(
            defaultBackend={"resource": {"kind": "Bucket", "name": "b"}},
            tls=[{"hosts": ["shop.example.com"], "secretName": "tls"}],
            ingressClassName="nginx",
        ),
        id="Ingress",
    ),
    pytest.param(
        endpoints(
            [
                {
                    "addresses": [{"ip": "10.244.1.5", "hostname": "a", "nodeName": "worker-1"}],
                    "notReadyAddresses": [{"ip": "10.244.1.6"}],
                    "ports": [
                        {"name": "http", "port": 80, "protocol": "TCP"},
                        {"name": "dns", "port": 53, "protocol": "UDP"},
                    ],
                }
            ]
        ),
        id="Endpoints",
    ),
]


@pytest.mark.parametrize("valid", FUZZ_SEEDS)
def test_odd_json_in_any_field_gives_field_errors_never_exceptions(valid):
    """Whatever a field holds, validation answers with FieldErrors and never raises."""
    assert problems(valid) == []
    assert check_never_raises(valid) > 100


@pytest.mark.parametrize("value", [None, 0, "text", [], {}, [{}]])
def test_whole_object_of_odd_shape_never_raises(value):
    """Even a Service whose every section is odd gets field errors, not an exception."""
    obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": value,
    }
    assert_only_field_errors(validate(apply_defaults(obj)))
    assert_only_field_errors(validate(obj))
