"""Validation of Services, Ingresses and Endpoints, with Kubernetes v1.32's rules and messages.

The rules follow ``pkg/apis/core/validation`` (``ValidateService``, ``ValidateServiceUpdate``,
``ValidateEndpoints``) and ``pkg/apis/networking/validation`` (``ValidateIngressCreate``), plus
the two checks kube-apiserver's Service allocators make before a Service is stored: a requested
cluster IP must lie in the service CIDR (10.96.0.0/12 here) and a requested node port in
30000-32767.

Objects arrive here after ``apply_defaults``, so defaulted fields (a Service's ``type``,
``sessionAffinity``, port ``protocol`` and ``targetPort``...) are present. Every check reads the
JSON defensively: a wrong shape becomes a ``FieldError`` ("must be an object", "must be a
string"), never an exception.

Where Kubarium differs from Kubernetes on purpose:

- An Ingress backend's port that is neither a name nor a number is reported at
  ``...backend.service.port`` (Kubernetes names the whole ``...backend``), and a wrongly typed
  ``port.number``/``port.name`` (which Kubernetes' JSON decoder rejects before validation) gets a
  field error at that field.
- A LoadBalancer Service with ``externalTrafficPolicy: Local`` does not need a
  ``healthCheckNodePort``: Kubarium's write path does not allocate one.
- A duplicate ``(port, protocol)`` pair is rendered as ``{"port":80,"protocol":"TCP"}`` rather
  than Go's dump of an internal struct.

>>> [str(e) for e in validate_service({"spec": {"type": "ClusterIP", "sessionAffinity": "None",
...     "ports": [{"port": 0, "protocol": "TCP", "targetPort": 80}],
...     "internalTrafficPolicy": "Cluster"}})]
['spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive']
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from cluster.store import ipam
from cluster.store.errors import FieldError
from cluster.store.validation.common import (
    Obj,
    as_dict,
    as_list,
    child,
    dicts,
    dns1035_label,
    dns1123_label,
    dns1123_subdomain,
    index,
    key,
    labels,
    port_name,
    qualified_name,
    update_validator,
    validator,
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Kubernetes lists supported values sorted (sets.List), so these tuples are sorted too.
PROTOCOLS = ("SCTP", "TCP", "UDP")
SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
SESSION_AFFINITIES = ("ClientIP", "None")
TRAFFIC_POLICIES = ("Cluster", "Local")
IP_FAMILIES = ("IPv4", "IPv6")
IP_FAMILY_POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")
TRAFFIC_DISTRIBUTIONS = ("PreferClose",)
PATH_TYPES = ("Exact", "ImplementationSpecific", "Prefix")
MAX_CLIENT_IP_AFFINITY_SECONDS = 86400  # core.MaxClientIPServiceAffinitySeconds: one day
LOAD_BALANCER_SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges"
INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
NODE_PORT_RANGE = f"{ipam.NODE_PORT_RANGE.start}-{ipam.NODE_PORT_RANGE.stop - 1}"

_DIGITS = re.compile("[0-9]+")
_DNS1123_SUBDOMAIN = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_WILDCARD_SUBDOMAIN = "\\*\\." + _DNS1123_SUBDOMAIN
_WILDCARD_SUBDOMAIN_RE = re.compile(_WILDCARD_SUBDOMAIN)
_INVALID_PATH_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")
_INVALID_PATH_SUFFIXES = ("/..", "/.")


# --- addresses (k8s.io/utils/net's sloppy parsers, as Kubernetes v1.32 validates with) --------


def parse_ip_sloppy(text: Any) -> IPAddress | None:
    """An IP address as ``netutils.ParseIPSloppy`` reads it, or None.

    IPv4 octets may carry leading zeros, read as decimal: ``"010.096.0.1"`` is 10.96.0.1.
    ``"10.96.0"``, ``"256.0.0.1"``, ``"fe80::1%eth0"`` (a zone) and ``"example.com"`` are not
    addresses. Like Go, the first ``.`` or ``:`` decides between IPv4 and IPv6.
    """
    if not isinstance(text, str) or not text.isascii():
        return None
    for char in text:
        if char == ".":
            return _parse_ipv4_sloppy(text)
        if char == ":":
            if "%" in text:
                return None
            try:
                return ipaddress.IPv6Address(text)
            except ValueError:
                return None
    return None


def _parse_ipv4_sloppy(text: str) -> ipaddress.IPv4Address | None:
    parts = text.split(".")
    if len(parts) != 4:
        return None
    octets = []
    for part in parts:
        if not _DIGITS.fullmatch(part):
            return None
        digits = part.lstrip("0") or "0"
        if len(digits) > 3 or int(digits) > 255:
            return None
        octets.append(digits)
    return ipaddress.IPv4Address(".".join(octets))


def parse_cidr_sloppy(text: Any) -> IPNetwork | None:
    """A CIDR as ``netutils.ParseCIDRSloppy`` reads it (host bits allowed), or None.

    ``"10.244.1.0/24"`` and ``"10.244.1.7/24"`` (an interface address) both give 10.244.1.0/24;
    ``"10.244.1.0"`` (no prefix), ``"10.0.0.0/33"`` and ``"10.0.0.0/255.0.0.0"`` are not CIDRs.
    """
    if not isinstance(text, str) or "/" not in text:
        return None
    address, _, prefix = text.partition("/")
    ip = parse_ip_sloppy(address)
    if ip is None or not _DIGITS.fullmatch(prefix):
        return None
    digits = prefix.lstrip("0") or "0"
    if len(digits) > 3 or int(digits) > ip.max_prefixlen:
        return None
    return ipaddress.ip_network(f"{ip}/{int(digits)}", strict=False)


def ip_errors(path: str, value: Any) -> list[FieldError]:
    """``validation.IsValidIP`` (v1.32: the sloppy parser, no strictness checks)."""
    if parse_ip_sloppy(value) is None:
        return [
            FieldError.invalid(
                path, value, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
            )
        ]
    return []


def cidr_errors(path: str, value: Any) -> list[FieldError]:
    """``validation.IsValidCIDR`` (v1.32: the sloppy parser)."""
    if parse_cidr_sloppy(value) is None:
        return [
            FieldError.invalid(
                path, value, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
            )
        ]
    return []


def non_special_ip_errors(path: str, value: Any) -> list[FieldError]:
    """``ValidateNonSpecialIP``: no unspecified, loopback or link-local addresses."""
    ip = parse_ip_sloppy(value)
    if ip is None:
        return [FieldError.invalid(path, value, "must be a valid IP address")]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # Go compares IPv4-mapped addresses as IPv4
    errors = []
    if ip.is_unspecified:
        errors.append(FieldError.invalid(path, value, f"may not be unspecified ({value})"))
    if ip.is_loopback:
        errors.append(
            FieldError.invalid(
                path, value, "may not be in the loopback range (127.0.0.0/8, ::1/128)"
            )
        )
    if ip in _LINK_LOCAL_UNICAST[ip.version]:
        errors.append(
            FieldError.invalid(
                path, value, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"
            )
        )
    if ip in _LINK_LOCAL_MULTICAST[ip.version]:
        errors.append(
            FieldError.invalid(
                path,
                value,
                "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
            )
        )
    return errors


_LINK_LOCAL_UNICAST = {
    4: ipaddress.ip_network("169.254.0.0/16"),
    6: ipaddress.ip_network("fe80::/10"),
}
# Go's IsLinkLocalMulticast: 224.0.0.0/24, and ff02::/16 (first byte ff, scope 2).
_LINK_LOCAL_MULTICAST = {
    4: ipaddress.ip_network("224.0.0.0/24"),
    6: ipaddress.ip_network("ff02::/16"),
}


# --- names -----------------------------------------------------------------------------------


def wildcard_subdomain(path: str, value: str) -> list[FieldError]:
    """``IsWildcardDNS1123Subdomain``: ``*.example.com``."""
    errors = []
    if len(value) > 253:
        errors.append(FieldError.invalid(path, value, "must be no more than 253 characters"))
    if not _WILDCARD_SUBDOMAIN_RE.fullmatch(value):
        errors.append(
            FieldError.invalid(
                path,
                value,
                (
                    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS "
                    "subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and "
                    "end with an alphanumeric character (e.g. '*.example.com', regex used for validation "
                    f"is '{_WILDCARD_SUBDOMAIN}')"
                ),
            )
        )
    return errors


def path_segment_name_errors(name: str) -> list[str]:
    """``IsValidPathSegmentName``: a name that can be one segment of a URL path."""
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{bad}'" for bad in ("/", "%") if bad in name]


def path_segment_name(path: str, value: Any, *, required: bool = True) -> list[FieldError]:
    """A required kind or name of a reference (``scaleTargetRef.kind``, ``resource.name``)."""
    if value is None or value == "":
        return [FieldError.required(path)] if required else []
    if not isinstance(value, str):
        return [FieldError.invalid(path, value, "must be a string")]
    return [FieldError.invalid(path, value, message) for message in path_segment_name_errors(value)]


# --- ports -----------------------------------------------------------------------------------


def port_in_range(path: str, value: Any) -> list[FieldError]:
    """``IsValidPortNum`` on an int32 port; a missing one is Go's zero, hence out of range."""
    if value is None:
        value = 0
    if isinstance(value, bool) or not isinstance(value, int):
        return [FieldError.invalid(path, value, "must be an integer")]
    if not 1 <= value <= 65535:
        return [FieldError.invalid(path, value, "must be between 1 and 65535, inclusive")]
    return []


def port_number_or_name(path: str, value: Any) -> list[FieldError]:
    """``ValidatePortNumOrName`` (a targetPort): an int is a number, a string is a port name.

    A string of digits is a *name* to Kubernetes (intstr keeps the JSON type), so ``"8080"``
    fails with "must contain at least one letter (a-z)".
    """
    if isinstance(value, str):
        return port_name(path, value)
    if isinstance(value, bool) or not isinstance(value, int):
        return [FieldError.invalid(path, value, "must be an integer or a string")]
    return port_in_range(path, value)


def _protocol(path: str, value: Any) -> list[FieldError]:
    if value is None or value == "":
        return [FieldError.required(path)]
    if value not in PROTOCOLS:
        return [FieldError.not_supported(path, value, PROTOCOLS)]
    return []


def _strings(value: Any, path: str, errors: list[FieldError]) -> list[tuple[str, str]]:
    """(path, item) for the string items of a list of strings; other items are reported."""
    items = []
    for i, item in enumerate(as_list(value, path, errors)):
        if isinstance(item, str):
            items.append((index(path, i), item))
        else:
            errors.append(FieldError.invalid(index(path, i), item, "must be a string"))
    return items


# --- Service ---------------------------------------------------------------------------------


def cluster_ips(spec: Obj) -> list[Any]:
    """``spec.clusterIPs``, or ``[spec.clusterIP]`` when only that is set (NormalizeClusterIPs)."""
    ips = spec.get("clusterIPs")
    if isinstance(ips, list) and ips:
        return ips
    ip = spec.get("clusterIP")
    return [ip] if isinstance(ip, str) and ip else []


def _is_headless(spec: Obj) -> bool:
    return cluster_ips(spec) == ["None"]


def _externally_accessible(spec: Obj) -> bool:
    """``ExternallyAccessible``: NodePort and LoadBalancer, or ClusterIP with external IPs."""
    service_type = spec.get("type")
    return service_type in ("NodePort", "LoadBalancer") or (
        service_type == "ClusterIP" and bool(spec.get("externalIPs"))
    )


def _needs_health_check(spec: Obj) -> bool:
    return spec.get("type") == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"


@validator("Service")
def validate_service(obj: Obj) -> list[FieldError]:
    """``ValidateService``, plus the allocators' cluster-IP and node-port range checks."""
    errors: list[FieldError] = []
    spec = as_dict(obj.get("spec"), "spec", errors)
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    service_type = spec.get("type")
    headless = _is_headless(spec)

    raw_ports = spec.get("ports")
    ports = dicts(raw_ports, "spec.ports", errors)
    if raw_ports in (None, []) and not headless and service_type != "ExternalName":
        errors.append(FieldError.required("spec.ports"))
    errors.extend(_service_type_rules(spec))
    names: list[str] = []
    require_name = isinstance(raw_ports, list) and len(raw_ports) > 1
    for path, port in ports:
        errors.extend(_service_port(port, path, require_name, names))

    if spec.get("selector") is not None:
        errors.extend(labels("spec.selector", spec["selector"]))
    errors.extend(_session_affinity(spec))
    errors.extend(_cluster_ips_related(spec))
    for path, address in _strings(spec.get("externalIPs"), "spec.externalIPs", errors):
        errors.extend(ip_errors(path, address) or non_special_ip_errors(path, address))

    if service_type is None or service_type == "":
        errors.append(FieldError.required("spec.type"))
    elif service_type not in SERVICE_TYPES:
        errors.append(FieldError.not_supported("spec.type", service_type, SERVICE_TYPES))
    errors.extend(_node_ports(ports, service_type))
    errors.extend(_duplicate_ports(ports))
    errors.extend(_source_ranges(spec, meta))
    errors.extend(_load_balancer_fields(spec))
    errors.extend(_traffic_policies(spec))
    errors.extend(_cluster_ip_in_range(spec))
    return errors


def _service_type_rules(spec: Obj) -> list[FieldError]:
    service_type = spec.get("type")
    errors: list[FieldError] = []
    if service_type in ("LoadBalancer", "NodePort") and _is_headless(spec):
        errors.append(
            FieldError.invalid(
                "spec.clusterIPs[0]",
                "None",
                f"may not be set to 'None' for {service_type} services",
            )
        )
    elif service_type == "ExternalName":
        for field in ("clusterIPs", "ipFamilies"):
            present = cluster_ips(spec) if field == "clusterIPs" else spec.get(field)
            if present:
                errors.append(
                    FieldError.forbidden(
                        f"spec.{field}", "may not be set for ExternalName services"
                    )
                )
        if spec.get("ipFamilyPolicy") is not None:
            errors.append(
                FieldError.forbidden(
                    "spec.ipFamilyPolicy", "may not be set for ExternalName services"
                )
            )
        name = spec.get("externalName")
        if name is None or name == "":
            errors.append(FieldError.required("spec.externalName"))
        elif not isinstance(name, str):
            errors.append(FieldError.invalid("spec.externalName", name, "must be a string"))
        else:
            # A CNAME may end with a dot to mark it fully qualified.
            cname = name[:-1] if name.endswith(".") else name
            if cname:
                errors.extend(dns1123_subdomain("spec.externalName", cname))
            else:
                errors.append(FieldError.required("spec.externalName"))
    return errors


def _service_port(port: Obj, path: str, require_name: bool, names: list[str]) -> list[FieldError]:
    """``validateServicePort``: name, port, protocol, targetPort and appProtocol."""
    errors: list[FieldError] = []
    name = port.get("name")
    if require_name and (name is None or name == ""):
        errors.append(FieldError.required(child(path, "name")))
    elif name is not None and name != "":
        errors.extend(dns1123_label(child(path, "name"), name))
        if isinstance(name, str):
            if name in names:
                errors.append(FieldError.duplicate(child(path, "name"), name))
            else:
                names.append(name)
    errors.extend(port_in_range(child(path, "port"), port.get("port")))
    errors.extend(_protocol(child(path, "protocol"), port.get("protocol")))
    errors.extend(port_number_or_name(child(path, "targetPort"), port.get("targetPort")))
    if port.get("appProtocol") is not None:
        errors.extend(qualified_name(child(path, "appProtocol"), port["appProtocol"]))
    return errors


def _session_affinity(spec: Obj) -> list[FieldError]:
    affinity = spec.get("sessionAffinity")
    config_path = "spec.sessionAffinityConfig"
    errors: list[FieldError] = []
    if affinity is None or affinity == "":
        errors.append(FieldError.required("spec.sessionAffinity"))
    elif affinity not in SESSION_AFFINITIES:
        errors.append(
            FieldError.not_supported("spec.sessionAffinity", affinity, SESSION_AFFINITIES)
        )
    if affinity == "ClientIP":
        errors.extend(_client_ip_config(spec.get("sessionAffinityConfig"), config_path))
    elif affinity == "None" and spec.get("sessionAffinityConfig") is not None:
        errors.append(
            FieldError.forbidden(config_path, "must not be set when session affinity is None")
        )
    return errors


def _client_ip_config(config: Any, path: str) -> list[FieldError]:
    """``validateClientIPAffinityConfig``: a timeout between 1 second and one day."""
    detail = "when session affinity type is ClientIP"
    errors: list[FieldError] = []
    if config is None:
        return [FieldError.required(path, detail)]
    config = as_dict(config, path, errors)
    client_ip = config.get("clientIP")
    if client_ip is None:
        return errors + [FieldError.required(child(path, "clientIP"), detail)]
    client_ip = as_dict(client_ip, child(path, "clientIP"), errors)
    timeout_path = child(path, "clientIP.timeoutSeconds")
    timeout = client_ip.get("timeoutSeconds")
    if timeout is None:
        return errors + [FieldError.required(timeout_path, detail)]
    if isinstance(timeout, bool) or not isinstance(timeout, int):
        errors.append(FieldError.invalid(timeout_path, timeout, "must be an integer"))
    elif not 0 < timeout <= MAX_CLIENT_IP_AFFINITY_SECONDS:
        errors.append(
            FieldError.invalid(
                timeout_path,
                timeout,
                f"must be greater than 0 and less than {MAX_CLIENT_IP_AFFINITY_SECONDS}",
            )
        )
    return errors


def _cluster_ips_related(spec: Obj) -> list[FieldError]:
    """``ValidateServiceClusterIPsRelatedFields``: clusterIP/clusterIPs/ipFamilies agree."""
    if spec.get("type") == "ExternalName":
        return []
    errors: list[FieldError] = []
    path = "spec.clusterIPs"
    cluster_ip = spec.get("clusterIP")
    if cluster_ip is not None and not isinstance(cluster_ip, str):
        errors.append(FieldError.invalid("spec.clusterIP", cluster_ip, "must be a string"))
        cluster_ip = None
    ips = as_list(spec.get("clusterIPs"), path, errors)
    if cluster_ip:
        if not ips:
            errors.append(FieldError.required(path))
        elif ips[0] != cluster_ip:
            errors.append(FieldError.invalid(path, ips, "first value must match `clusterIP`"))
    elif ips:
        errors.append(
            FieldError.invalid(path, ips, "must be empty when `clusterIP` is not specified")
        )

    families = as_list(spec.get("ipFamilies"), "spec.ipFamilies", errors)
    seen: list[Any] = []
    for i, family in enumerate(families):
        if family not in IP_FAMILIES:
            errors.append(
                FieldError.not_supported(index("spec.ipFamilies", i), family, IP_FAMILIES)
            )
        if family in seen:
            errors.append(FieldError.duplicate(index("spec.ipFamilies", i), family))
        seen.append(family)
    policy = spec.get("ipFamilyPolicy")
    if policy is not None and policy not in IP_FAMILY_POLICIES:
        errors.append(FieldError.not_supported("spec.ipFamilyPolicy", policy, IP_FAMILY_POLICIES))

    invalid = False
    for i, ip in enumerate(ips):
        if i == 0 and ip == "None":
            if len(ips) > 1:
                invalid = True
                errors.append(
                    FieldError.invalid(path, ips, "'None' must be the first and only value")
                )
            continue
        problems = ip_errors(index(path, i), ip)
        invalid = invalid or bool(problems)
        errors.extend(problems)
    if len(ips) > 2:
        errors.append(FieldError.invalid(path, ips, "may only hold up to 2 values"))
    if invalid:
        return errors
    if len(ips) > 1:
        versions = sorted(address.version for address in map(parse_ip_sloppy, ips) if address)
        if versions != [4, 6]:
            errors.append(
                FieldError.invalid(path, ips, "may specify no more than one IP for each IP family")
            )
    if ips and ips != ["None"] and families:
        for i, ip in enumerate(ips[: len(families)]):
            address = parse_ip_sloppy(ip)
            version = address.version if address else 4
            if families[i] == "IPv4" and version == 6:
                errors.append(
                    FieldError.invalid(
                        index(path, i),
                        ip,
                        f"expected an IPv4 value as indicated by `ipFamilies[{i}]`",
                    )
                )
            if families[i] == "IPv6" and version != 6:
                errors.append(
                    FieldError.invalid(
                        index(path, i),
                        ip,
                        f"expected an IPv6 value as indicated by `ipFamilies[{i}]`",
                    )
                )
    return errors


def _node_ports(ports: list[tuple[str, Obj]], service_type: Any) -> list[FieldError]:
    """nodePort: forbidden on ClusterIP, in 30000-32767 otherwise, unique per protocol."""
    errors: list[FieldError] = []
    seen: list[tuple[Any, int]] = []
    for path, port in ports:
        node_port = port.get("nodePort")
        if node_port is None or node_port == 0:
            continue
        node_path = child(path, "nodePort")
        if isinstance(node_port, bool) or not isinstance(node_port, int):
            errors.append(FieldError.invalid(node_path, node_port, "must be an integer"))
            continue
        if service_type == "ClusterIP":
            errors.append(
                FieldError.forbidden(node_path, "may not be used when `type` is 'ClusterIP'")
            )
        elif service_type in ("NodePort", "LoadBalancer") and node_port not in ipam.NODE_PORT_RANGE:
            errors.append(
                FieldError.invalid(
                    node_path,
                    node_port,
                    f"provided port is not in the valid range. The range of valid ports is "
                    f"{NODE_PORT_RANGE}",
                )
            )
        pair = (port.get("protocol"), node_port)
        if pair in seen:
            errors.append(FieldError.duplicate(node_path, node_port))
        seen.append(pair)
    return errors


def _duplicate_ports(ports: list[tuple[str, Obj]]) -> list[FieldError]:
    """Two ports may not share a port number and protocol."""
    errors: list[FieldError] = []
    seen: list[tuple[Any, Any]] = []
    for path, port in ports:
        pair = (port.get("port"), port.get("protocol"))
        if pair in seen:
            errors.append(FieldError.duplicate(path, {"port": pair[0], "protocol": pair[1]}))
        seen.append(pair)
    return errors


def _source_ranges(spec: Obj, meta: Obj) -> list[FieldError]:
    """loadBalancerSourceRanges (or its annotation): CIDRs, and only on a LoadBalancer."""
    errors: list[FieldError] = []
    is_load_balancer = spec.get("type") == "LoadBalancer"
    ranges = spec.get("loadBalancerSourceRanges")
    annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    if ranges:
        path = "spec.LoadBalancerSourceRanges"  # sic: Kubernetes capitalises this path
        if not is_load_balancer:
            errors.append(
                FieldError.forbidden(path, "may only be used when `type` is 'LoadBalancer'")
            )
        for item_path, value in _strings(ranges, path, errors):
            errors.extend(cidr_errors(item_path, value.strip()))
    elif LOAD_BALANCER_SOURCE_RANGES_ANNOTATION in annotations:
        path = key("metadata.annotations", LOAD_BALANCER_SOURCE_RANGES_ANNOTATION)
        if not is_load_balancer:
            errors.append(
                FieldError.forbidden(path, "may only be used when `type` is 'LoadBalancer'")
            )
        value = annotations[LOAD_BALANCER_SOURCE_RANGES_ANNOTATION]
        if isinstance(value, str) and value.strip():
            for cidr in value.strip().split(","):
                errors.extend(cidr_errors(path, cidr.strip()))
    return errors


def _load_balancer_fields(spec: Obj) -> list[FieldError]:
    errors: list[FieldError] = []
    is_load_balancer = spec.get("type") == "LoadBalancer"
    allocate = spec.get("allocateLoadBalancerNodePorts")
    if allocate is not None and not is_load_balancer:
        errors.append(
            FieldError.forbidden(
                "spec.allocateLoadBalancerNodePorts",
                "may only be used when `type` is 'LoadBalancer'",
            )
        )
    if is_load_balancer and allocate is None:
        # sic: Kubernetes leaves "spec." off this path.
        errors.append(FieldError.required("allocateLoadBalancerNodePorts"))
    if allocate is not None and not isinstance(allocate, bool):
        errors.append(
            FieldError.invalid("spec.allocateLoadBalancerNodePorts", allocate, "must be a boolean")
        )
    lb_class = spec.get("loadBalancerClass")
    if lb_class is not None:
        if is_load_balancer:
            errors.extend(qualified_name("spec.loadBalancerClass", lb_class))
        else:
            errors.append(
                FieldError.forbidden(
                    "spec.loadBalancerClass", "may only be used when `type` is 'LoadBalancer'"
                )
            )
    return errors


def _traffic_policies(spec: Obj) -> list[FieldError]:
    """externalTrafficPolicy, healthCheckNodePort, internalTrafficPolicy, trafficDistribution."""
    errors: list[FieldError] = []
    external = spec.get("externalTrafficPolicy")
    if not _externally_accessible(spec):
        if external is not None and external != "":
            errors.append(
                FieldError.invalid(
                    "spec.externalTrafficPolicy",
                    external,
                    "may only be set for externally-accessible services",
                )
            )
    elif external is None or external == "":
        errors.append(FieldError.required("spec.externalTrafficPolicy"))
    elif external not in TRAFFIC_POLICIES:
        errors.append(
            FieldError.not_supported("spec.externalTrafficPolicy", external, TRAFFIC_POLICIES)
        )

    health = spec.get("healthCheckNodePort")
    if health is not None and health != 0:
        if not _needs_health_check(spec):
            errors.append(
                FieldError.invalid(
                    "spec.healthCheckNodePort",
                    health,
                    "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is "
                    "'Local'",
                )
            )
        else:
            errors.extend(port_in_range("spec.healthCheckNodePort", health))

    internal = spec.get("internalTrafficPolicy")
    if internal is None:
        if spec.get("type") in ("ClusterIP", "NodePort", "LoadBalancer"):
            errors.append(FieldError.required("spec.internalTrafficPolicy"))
    elif internal not in TRAFFIC_POLICIES:
        errors.append(
            FieldError.not_supported("spec.internalTrafficPolicy", internal, TRAFFIC_POLICIES)
        )

    distribution = spec.get("trafficDistribution")
    if distribution is not None and distribution not in TRAFFIC_DISTRIBUTIONS:
        errors.append(
            FieldError.not_supported(
                "spec.trafficDistribution", distribution, TRAFFIC_DISTRIBUTIONS
            )
        )
    return errors


def _cluster_ip_in_range(spec: Obj) -> list[FieldError]:
    """The allocator's check: a requested cluster IP must be in the service CIDR.

    ``"1.2.3.4"`` is refused with ``failed to allocate IP 1.2.3.4: the provided IP (1.2.3.4) is
    not in the valid range. The range of valid IPs is 10.96.0.0/12``.
    """
    if spec.get("type") == "ExternalName":
        return []
    ips = cluster_ips(spec)
    if not ips or ips[0] == "None":
        return []
    address = parse_ip_sloppy(ips[0])
    if address is None or address in ipam.SERVICE_CIDR:
        return []
    return [
        FieldError.invalid(
            "spec.clusterIPs",
            ips,
            f"failed to allocate IP {address}: the provided IP ({address}) is not in the valid "
            f"range. The range of valid IPs is {ipam.SERVICE_CIDR}",
        )
    ]


@update_validator("Service")
def validate_service_update(old: Obj, new: Obj) -> list[FieldError]:
    """``ValidateServiceUpdate``: cluster IPs and IP families stay once set, and so do the
    load balancer class and the health check node port.

    Changing the type to or from ExternalName, or between headless ones, may change them.
    """
    old_spec = old.get("spec") if isinstance(old.get("spec"), dict) else {}
    new_spec = new.get("spec") if isinstance(new.get("spec"), dict) else {}
    errors = _cluster_ips_update(old_spec, new_spec) + _ip_families_update(old_spec, new_spec)
    if (
        old_spec.get("type") == "LoadBalancer"
        and new_spec.get("type") == "LoadBalancer"
        and old_spec.get("loadBalancerClass") != new_spec.get("loadBalancerClass")
    ):
        errors.append(
            FieldError.invalid(
                "spec.loadBalancerClass",
                new_spec.get("loadBalancerClass"),
                "may not change once set",
            )
        )
    if (
        _needs_health_check(old_spec)
        and _needs_health_check(new_spec)
        and old_spec.get("healthCheckNodePort") != new_spec.get("healthCheckNodePort")
    ):
        errors.append(FieldError.forbidden("spec.healthCheckNodePort", "field is immutable"))
    return errors


def _cluster_ips_update(old_spec: Obj, new_spec: Obj) -> list[FieldError]:
    """``validateUpgradeDowngradeClusterIPs``: the primary cluster IP may not change."""
    if "ExternalName" in (old_spec.get("type"), new_spec.get("type")):
        return []
    if _is_headless(old_spec) and _is_headless(new_spec):
        return []
    old_ips, new_ips = cluster_ips(old_spec), cluster_ips(new_spec)
    first = "spec.clusterIPs[0]"
    errors: list[FieldError] = []
    if len(old_ips) == len(new_ips):
        for i, ip in enumerate(old_ips):
            if ip != new_ips[i]:
                errors.append(
                    FieldError.invalid(
                        index("spec.clusterIPs", i), new_ips, "may not change once set"
                    )
                )
    elif len(old_ips) > len(new_ips):
        if not new_ips:
            errors.append(FieldError.invalid(first, new_ips, "primary clusterIP can not be unset"))
        elif new_ips[0] != old_ips[0]:
            errors.append(FieldError.invalid(first, new_ips, "may not change once set"))
        if len(new_ips) == 1 and new_spec.get("ipFamilyPolicy") != "SingleStack":
            errors.append(
                FieldError.invalid(
                    "spec.ipFamilyPolicy",
                    new_spec.get("ipFamilyPolicy"),
                    "must be set to 'SingleStack' when releasing the secondary clusterIP",
                )
            )
    elif old_ips and new_ips[0] != old_ips[0]:
        errors.append(FieldError.invalid(first, new_ips, "may not change once set"))
    return errors


def _ip_families_update(old_spec: Obj, new_spec: Obj) -> list[FieldError]:
    """``validateUpgradeDowngradeIPFamilies``: the primary IP family may not change."""
    if "ExternalName" in (old_spec.get("type"), new_spec.get("type")):
        return []
    if _is_headless(old_spec) or _is_headless(new_spec):
        return []
    old_families = (
        old_spec.get("ipFamilies") if isinstance(old_spec.get("ipFamilies"), list) else []
    )
    new_families = (
        new_spec.get("ipFamilies") if isinstance(new_spec.get("ipFamilies"), list) else []
    )
    first = "spec.ipFamilies[0]"
    errors: list[FieldError] = []
    if len(old_families) == len(new_families):
        if old_families != new_families:
            errors.append(FieldError.invalid(first, new_families, "may not change once set"))
    elif len(old_families) > len(new_families):
        if not cluster_ips(new_spec):
            errors.append(
                FieldError.invalid(first, new_families, "primary ipFamily can not be unset")
            )
        if new_families and new_families[0] != old_families[0]:
            errors.append(
                FieldError.invalid(first, cluster_ips(new_spec), "may not change once set")
            )
        if len(new_families) == 1 and new_spec.get("ipFamilyPolicy") != "SingleStack":
            errors.append(
                FieldError.invalid(
                    "spec.ipFamilyPolicy",
                    new_spec.get("ipFamilyPolicy"),
                    "must be set to 'SingleStack' when releasing the secondary ipFamily",
                )
            )
    elif old_families and new_families[0] != old_families[0]:
        errors.append(FieldError.invalid(first, cluster_ips(new_spec), "may not change once set"))
    return errors


# --- Ingress ---------------------------------------------------------------------------------


@validator("Ingress")
def validate_ingress(obj: Obj) -> list[FieldError]:
    """``ValidateIngressCreate``: rules, backends, TLS and the class name."""
    errors: list[FieldError] = []
    spec = as_dict(obj.get("spec"), "spec", errors)
    rules = spec.get("rules")
    default_backend = spec.get("defaultBackend")
    if not rules and default_backend is None:
        errors.append(
            FieldError.invalid(
                "spec",
                rules if isinstance(rules, list) else [],
                "either `defaultBackend` or `rules` must be specified",
            )
        )
    if default_backend is not None:
        errors.extend(_ingress_backend(default_backend, "spec.defaultBackend"))
    for path, rule in dicts(rules, "spec.rules", errors):
        errors.extend(_ingress_rule(rule, path))
    for path, tls in dicts(spec.get("tls"), "spec.tls", errors):
        for host_path, host in _strings(tls.get("hosts"), child(path, "hosts"), errors):
            errors.extend(
                wildcard_subdomain(host_path, host)
                if "*" in host
                else dns1123_subdomain(host_path, host)
            )
        secret_name = tls.get("secretName")
        if secret_name is not None and secret_name != "":
            errors.extend(dns1123_subdomain(child(path, "secretName"), secret_name))
    class_name = spec.get("ingressClassName")
    if class_name is not None:
        errors.extend(dns1123_subdomain("spec.ingressClassName", class_name))
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    annotation = annotations.get(INGRESS_CLASS_ANNOTATION)
    if annotation is not None and class_name is not None and annotation != class_name:
        # sic: Kubernetes builds this path as a child of "annotations".
        errors.append(
            FieldError.invalid(
                f"annotations.{INGRESS_CLASS_ANNOTATION}",
                annotation,
                "must match `ingressClassName` when both are specified",
            )
        )
    return errors


def _ingress_rule(rule: Obj, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    host = rule.get("host")
    host_path = child(path, "host")
    if host is not None and host != "":
        if not isinstance(host, str):
            errors.append(FieldError.invalid(host_path, host, "must be a string"))
        else:
            if parse_ip_sloppy(host) is not None:
                errors.append(
                    FieldError.invalid(host_path, host, "must be a DNS name, not an IP address")
                )
            errors.extend(
                wildcard_subdomain(host_path, host)
                if "*" in host
                else dns1123_subdomain(host_path, host)
            )
    if rule.get("http") is not None:
        http_path = child(path, "http")
        http = as_dict(rule["http"], http_path, errors)
        paths_path = child(http_path, "paths")
        raw_paths = http.get("paths")
        if raw_paths in (None, []):
            errors.append(FieldError.required(paths_path))
        for item_path, item in dicts(raw_paths, paths_path, errors):
            errors.extend(_ingress_path(item, item_path))
    return errors


def _ingress_path(item: Obj, path: str) -> list[FieldError]:
    """``validateHTTPIngressPath``: pathType, an absolute path, then the backend."""
    path_type = item.get("pathType")
    if path_type is None:
        return [FieldError.required(child(path, "pathType"), "pathType must be specified")]
    errors: list[FieldError] = []
    value_path = child(path, "path")
    value = item.get("path")
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.append(FieldError.invalid(value_path, value, "must be a string"))
        value = None
    if path_type in ("Exact", "Prefix"):
        if value is not None:
            if not value.startswith("/"):
                errors.append(FieldError.invalid(value_path, value, "must be an absolute path"))
            for sequence in _INVALID_PATH_SEQUENCES:
                if sequence in value:
                    errors.append(
                        FieldError.invalid(value_path, value, f"must not contain '{sequence}'")
                    )
            for suffix in _INVALID_PATH_SUFFIXES:
                if value.endswith(suffix):
                    errors.append(
                        FieldError.invalid(value_path, value, f"cannot end with '{suffix}'")
                    )
    elif path_type == "ImplementationSpecific":
        if value and not value.startswith("/"):
            errors.append(FieldError.invalid(value_path, value, "must be an absolute path"))
    else:
        errors.append(FieldError.not_supported(child(path, "pathType"), path_type, PATH_TYPES))
    errors.extend(_ingress_backend(item.get("backend"), child(path, "backend")))
    return errors


def _ingress_backend(value: Any, path: str) -> list[FieldError]:
    """``validateIngressBackend``: exactly one of a Service (name and port) or a resource."""
    errors: list[FieldError] = []
    backend = as_dict(value, path, errors)
    if errors:
        return errors
    resource, service = backend.get("resource"), backend.get("service")
    if resource is not None and service is not None:
        return [FieldError.invalid(path, "", "cannot set both resource and service backends")]
    if resource is not None:
        resource_path = child(path, "resource")
        resource = as_dict(resource, resource_path, errors)
        group = resource.get("apiGroup")
        if group is not None:
            errors.extend(dns1123_subdomain(child(resource_path, "apiGroup"), group))
        errors.extend(path_segment_name(child(resource_path, "kind"), resource.get("kind")))
        errors.extend(path_segment_name(child(resource_path, "name"), resource.get("name")))
        return errors
    if service is None:
        return [FieldError.invalid(path, "", "resource or service backend is required")]
    service_path = child(path, "service")
    service = as_dict(service, service_path, errors)
    name = service.get("name")
    if name is None or name == "":
        errors.append(FieldError.required(child(service_path, "name")))
    else:
        errors.extend(dns1035_label(child(service_path, "name"), name))
    errors.extend(_backend_port(service.get("port"), child(service_path, "port")))
    return errors


def _backend_port(value: Any, path: str) -> list[FieldError]:
    """A backend Service port: exactly one of ``name`` (a port name) or ``number`` (1-65535).

    ``{}``, ``{"name": ""}`` and a missing port are "port name or number is required";
    ``{"number": "http"}`` is not a number, ``{"name": 80}`` not a name.
    """
    if value is None:
        return [FieldError.required(path, "port name or number is required")]
    if not isinstance(value, dict):
        return [FieldError.invalid(path, value, "must be an object")]
    name, number = value.get("name"), value.get("number")
    errors: list[FieldError] = []
    if name is not None and not isinstance(name, str):
        errors.append(FieldError.invalid(child(path, "name"), name, "must be a string"))
    if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
        errors.append(FieldError.invalid(child(path, "number"), number, "must be an integer"))
    if errors:
        return errors
    has_name, has_number = bool(name), bool(number)
    if has_name and has_number:
        return [FieldError.invalid(path, value, "cannot set both port name & port number")]
    if has_name:
        return port_name(child(path, "name"), name)
    if has_number:
        return port_in_range(child(path, "number"), number)
    return [FieldError.required(path, "port name or number is required")]


# --- Endpoints -------------------------------------------------------------------------------


@validator("Endpoints")
def validate_endpoints(obj: Obj) -> list[FieldError]:
    """``ValidateEndpoints``: each subset has addresses, with valid IPs and named ports."""
    errors: list[FieldError] = []
    for path, subset in dicts(obj.get("subsets"), "subsets", errors):
        ready = subset.get("addresses")
        not_ready = subset.get("notReadyAddresses")
        if not ready and not not_ready:
            errors.append(
                FieldError.required(path, "must specify `addresses` or `notReadyAddresses`")
            )
        for field in ("addresses", "notReadyAddresses"):
            for address_path, address in dicts(subset.get(field), child(path, field), errors):
                errors.extend(_endpoint_address(address, address_path))
        raw_ports = subset.get("ports")
        require_name = isinstance(raw_ports, list) and len(raw_ports) > 1
        for port_path, port in dicts(raw_ports, child(path, "ports"), errors):
            errors.extend(_endpoint_port(port, port_path, require_name))
    return errors


def _endpoint_address(address: Obj, path: str) -> list[FieldError]:
    """``validateEndpointAddress``. An unparseable IP is reported twice, as Kubernetes does."""
    ip = address.get("ip")
    if ip is None:
        ip = ""
    errors = ip_errors(child(path, "ip"), ip)
    hostname = address.get("hostname")
    if hostname is not None and hostname != "":
        errors.extend(dns1123_label(child(path, "hostname"), hostname))
    if address.get("nodeName") is not None:
        errors.extend(dns1123_subdomain(child(path, "nodeName"), address["nodeName"]))
    errors.extend(non_special_ip_errors(child(path, "ip"), ip))
    return errors


def _endpoint_port(port: Obj, path: str, require_name: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    name = port.get("name")
    if require_name and (name is None or name == ""):
        errors.append(FieldError.required(child(path, "name")))
    elif name is not None and name != "":
        errors.extend(dns1123_label(child(path, "name"), name))
    errors.extend(port_in_range(child(path, "port"), port.get("port")))
    errors.extend(_protocol(child(path, "protocol"), port.get("protocol")))
    if port.get("appProtocol") is not None:
        errors.extend(qualified_name(child(path, "appProtocol"), port["appProtocol"]))
    return errors
