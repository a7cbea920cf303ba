"""Address allocation for Services: cluster IPs and node ports.

The service CIDR is 10.96.0.0/12 as in kubeadm clusters; 10.96.0.1 belongs to the ``kubernetes``
Service. Allocation is lowest-free rather than random, so a scenario replays with the same
addresses. Called inside the write path's transaction, which serialises writers.
"""

from __future__ import annotations

import ipaddress

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
FIRST_DYNAMIC_IP = ipaddress.ip_address("10.96.0.10")
NODE_PORT_RANGE = range(30000, 32768)


class AllocationError(Exception):
    pass


def allocate_cluster_ip(used: set[str]) -> str:
    """The lowest free address from 10.96.0.10 upward."""
    start = int(FIRST_DYNAMIC_IP)
    end = int(SERVICE_CIDR.broadcast_address)
    for value in range(start, end):
        candidate = str(ipaddress.ip_address(value))
        if candidate not in used:
            return candidate
    raise AllocationError("range is full")


def in_service_cidr(address: str) -> bool:
    try:
        return ipaddress.ip_address(address) in SERVICE_CIDR
    except ValueError:
        return False


def allocate_node_port(used: set[int]) -> int:
    for port in NODE_PORT_RANGE:
        if port not in used:
            return port
    raise AllocationError("range is full")
