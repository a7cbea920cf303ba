"""Kubernetes protobuf request bodies (``application/vnd.kubernetes.protobuf``), decoded to JSON.

kubectl 1.32 POSTs protobuf for ``create deployment|configmap|secret|namespace|service|ingress``
(kubectl-contract §0.5, §7.7), with no fallback. The body is the 4-byte magic ``k8s\\0`` and a
``runtime.Unknown`` whose ``typeMeta`` names the kind and whose ``raw`` holds the object.

The message definitions are written here as a compact table (:data:`MESSAGES`) for the kinds
those commands create and what they contain; the field numbers and types are the wire format of
``k8s.io/api`` v1.32. At first use the table becomes a ``FileDescriptorProto`` built in Python,
and ``google.protobuf`` decodes with it. Field notation: ``name=number:type`` where the type is
``string``, ``int32``, ``int64``, ``bool``, ``bytes`` or a message; ``*`` marks a repeated field,
``{T}`` a ``map<string, T>``, ``?`` a Go pointer (kept even when zero, e.g. ``replicas: 0``) and
``>`` an embedded struct whose fields JSON inlines.

Conversion to JSON follows Kubernetes (§7.7): ``Time`` becomes RFC 3339 (seconds 0: absent),
``IntOrString`` an int or a string, ``Quantity`` its string, ``bytes`` base64, ``FieldsV1``
its JSON. Go writes every non-pointer field, so empty strings, zeros, ``false`` and empty
messages are dropped. A field the table does not know makes the request fail with a clear
400 rather than silently losing data; ``kubectl apply -f`` / ``create -f`` (JSON) remain.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message

from cluster.store.errors import BadRequest

MAGIC = b"k8s\x00"
PACKAGE = "kubarium.k8s"

MESSAGES: dict[str, str] = {
    # runtime and apimachinery
    "Unknown": "typeMeta=1:TypeMeta raw=2:bytes contentEncoding=3:string contentType=4:string",
    "TypeMeta": "apiVersion=1:string kind=2:string",
    "Time": "seconds=1:int64 nanos=2:int32",
    "IntOrString": "type=1:int64 intVal=2:int32 strVal=3:string",
    "Quantity": "string=1:string",
    "FieldsV1": "Raw=1:bytes",
    "ObjectMeta": (
        "name=1:string generateName=2:string namespace=3:string selfLink=4:string uid=5:string "
        "resourceVersion=6:string generation=7:int64 creationTimestamp=8:Time "
        "deletionTimestamp=9:Time deletionGracePeriodSeconds=10:?int64 labels=11:{string} "
        "annotations=12:{string} ownerReferences=13:*OwnerReference finalizers=14:*string "
        "managedFields=17:*ManagedFieldsEntry"
    ),
    "OwnerReference": (
        "kind=1:string name=3:string uid=4:string apiVersion=5:string controller=6:?bool "
        "blockOwnerDeletion=7:?bool"
    ),
    "ManagedFieldsEntry": (
        "manager=1:string operation=2:string apiVersion=3:string time=4:Time "
        "fieldsType=6:string fieldsV1=7:FieldsV1 subresource=8:string"
    ),
    "LabelSelector": "matchLabels=1:{string} matchExpressions=2:*LabelSelectorRequirement",
    "LabelSelectorRequirement": "key=1:string operator=2:string values=3:*string",
    "Condition": (
        "type=1:string status=2:string observedGeneration=3:int64 lastTransitionTime=4:Time "
        "reason=5:string message=6:string"
    ),
    # apps/v1
    "Deployment": "metadata=1:ObjectMeta spec=2:DeploymentSpec status=3:DeploymentStatus",
    "DeploymentSpec": (
        "replicas=1:?int32 selector=2:LabelSelector template=3:PodTemplateSpec "
        "strategy=4:DeploymentStrategy minReadySeconds=5:int32 revisionHistoryLimit=6:?int32 "
        "paused=7:bool progressDeadlineSeconds=9:?int32"
    ),
    "DeploymentStrategy": "type=1:string rollingUpdate=2:RollingUpdateDeployment",
    "RollingUpdateDeployment": "maxUnavailable=1:IntOrString maxSurge=2:IntOrString",
    "DeploymentStatus": (
        "observedGeneration=1:int64 replicas=2:int32 updatedReplicas=3:int32 "
        "availableReplicas=4:int32 unavailableReplicas=5:int32 conditions=6:*DeploymentCondition "
        "readyReplicas=7:int32 collisionCount=8:?int32"
    ),
    "DeploymentCondition": (
        "type=1:string status=2:string reason=4:string message=5:string lastUpdateTime=6:Time "
        "lastTransitionTime=7:Time"
    ),
    # core/v1: pods (as templates)
    "PodTemplateSpec": "metadata=1:ObjectMeta spec=2:PodSpec",
    "PodSpec": (
        "containers=2:*Container restartPolicy=3:string terminationGracePeriodSeconds=4:?int64 "
        "activeDeadlineSeconds=5:?int64 dnsPolicy=6:string nodeSelector=7:{string} "
        "serviceAccountName=8:string serviceAccount=9:string nodeName=10:string "
        "hostNetwork=11:bool hostPID=12:bool hostIPC=13:bool "
        "imagePullSecrets=15:*LocalObjectReference hostname=16:string subdomain=17:string "
        "schedulerName=19:string initContainers=20:*Container "
        "automountServiceAccountToken=21:?bool priorityClassName=24:string priority=25:?int32 "
        "shareProcessNamespace=27:?bool runtimeClassName=29:string enableServiceLinks=30:?bool "
        "preemptionPolicy=31:string overhead=32:{Quantity} setHostnameAsFQDN=35:?bool "
        "hostUsers=37:?bool resources=40:ResourceRequirements"
    ),
    "Container": (
        "name=1:string image=2:string command=3:*string args=4:*string workingDir=5:string "
        "ports=6:*ContainerPort env=7:*EnvVar resources=8:ResourceRequirements "
        "volumeMounts=9:*VolumeMount terminationMessagePath=13:string imagePullPolicy=14:string "
        "stdin=16:bool stdinOnce=17:bool tty=18:bool envFrom=19:*EnvFromSource "
        "terminationMessagePolicy=20:string resizePolicy=23:*ContainerResizePolicy "
        "restartPolicy=24:string"
    ),
    "ContainerPort": (
        "name=1:string hostPort=2:int32 containerPort=3:int32 protocol=4:string hostIP=5:string"
    ),
    "EnvVar": "name=1:string value=2:string valueFrom=3:EnvVarSource",
    "EnvVarSource": (
        "fieldRef=1:ObjectFieldSelector resourceFieldRef=2:ResourceFieldSelector "
        "configMapKeyRef=3:ConfigMapKeySelector secretKeyRef=4:SecretKeySelector"
    ),
    "ObjectFieldSelector": "apiVersion=1:string fieldPath=2:string",
    "ResourceFieldSelector": "containerName=1:string resource=2:string divisor=3:Quantity",
    "ConfigMapKeySelector": "localObjectReference=1:>LocalObjectReference key=2:string optional=3:?bool",
    "SecretKeySelector": "localObjectReference=1:>LocalObjectReference key=2:string optional=3:?bool",
    "EnvFromSource": "prefix=1:string configMapRef=2:ConfigMapEnvSource secretRef=3:SecretEnvSource",
    "ConfigMapEnvSource": "localObjectReference=1:>LocalObjectReference optional=2:?bool",
    "SecretEnvSource": "localObjectReference=1:>LocalObjectReference optional=2:?bool",
    "LocalObjectReference": "name=1:string",
    "ResourceRequirements": "limits=1:{Quantity} requests=2:{Quantity} claims=3:*ResourceClaim",
    "ResourceClaim": "name=1:string request=2:string",
    "VolumeMount": (
        "name=1:string readOnly=2:bool mountPath=3:string subPath=4:string "
        "mountPropagation=5:string subPathExpr=6:string recursiveReadOnly=7:string"
    ),
    "ContainerResizePolicy": "resourceName=1:string restartPolicy=2:string",
    # core/v1: config, namespaces, services
    "ConfigMap": "metadata=1:ObjectMeta data=2:{string} binaryData=3:{bytes} immutable=4:?bool",
    "Secret": (
        "metadata=1:ObjectMeta data=2:{bytes} type=3:string stringData=4:{string} immutable=5:?bool"
    ),
    "Namespace": "metadata=1:ObjectMeta spec=2:NamespaceSpec status=3:NamespaceStatus",
    "NamespaceSpec": "finalizers=1:*string",
    "NamespaceStatus": "phase=1:string conditions=2:*NamespaceCondition",
    "NamespaceCondition": (
        "type=1:string status=2:string lastTransitionTime=4:Time reason=5:string message=6:string"
    ),
    "Service": "metadata=1:ObjectMeta spec=2:ServiceSpec status=3:ServiceStatus",
    "ServiceSpec": (
        "ports=1:*ServicePort selector=2:{string} clusterIP=3:string type=4:string "
        "externalIPs=5:*string sessionAffinity=7:string loadBalancerIP=8:string "
        "loadBalancerSourceRanges=9:*string externalName=10:string "
        "externalTrafficPolicy=11:string healthCheckNodePort=12:int32 "
        "publishNotReadyAddresses=13:bool sessionAffinityConfig=14:SessionAffinityConfig "
        "ipFamilyPolicy=17:string clusterIPs=18:*string ipFamilies=19:*string "
        "allocateLoadBalancerNodePorts=20:?bool loadBalancerClass=21:string "
        "internalTrafficPolicy=22:string trafficDistribution=23:string"
    ),
    "ServicePort": (
        "name=1:string protocol=2:string port=3:int32 targetPort=4:IntOrString nodePort=5:int32 "
        "appProtocol=6:string"
    ),
    "SessionAffinityConfig": "clientIP=1:ClientIPConfig",
    "ClientIPConfig": "timeoutSeconds=1:?int32",
    "ServiceStatus": "loadBalancer=1:LoadBalancerStatus conditions=2:*Condition",
    "LoadBalancerStatus": "ingress=1:*LoadBalancerIngress",
    "LoadBalancerIngress": "ip=1:string hostname=2:string ipMode=3:string ports=4:*PortStatus",
    "PortStatus": "port=1:int32 protocol=2:string error=3:string",
    "TypedLocalObjectReference": "apiGroup=1:string kind=2:string name=3:string",
    # networking.k8s.io/v1
    "Ingress": "metadata=1:ObjectMeta spec=2:IngressSpec status=3:IngressStatus",
    "IngressSpec": (
        "defaultBackend=1:IngressBackend tls=2:*IngressTLS rules=3:*IngressRule "
        "ingressClassName=4:string"
    ),
    "IngressBackend": "resource=3:TypedLocalObjectReference service=4:IngressServiceBackend",
    "IngressServiceBackend": "name=1:string port=2:ServiceBackendPort",
    "ServiceBackendPort": "name=1:string number=2:int32",
    "IngressTLS": "hosts=1:*string secretName=2:string",
    "IngressRule": "host=1:string ingressRuleValue=2:>IngressRuleValue",
    "IngressRuleValue": "http=1:HTTPIngressRuleValue",
    "HTTPIngressRuleValue": "paths=1:*HTTPIngressPath",
    "HTTPIngressPath": "path=1:string backend=2:IngressBackend pathType=3:string",
    "IngressStatus": "loadBalancer=1:IngressLoadBalancerStatus",
    "IngressLoadBalancerStatus": "ingress=1:*IngressLoadBalancerIngress",
    "IngressLoadBalancerIngress": "ip=1:string hostname=2:string ports=4:*IngressPortStatus",
    "IngressPortStatus": "port=1:int32 protocol=2:string error=3:string",
}

# (apiVersion, kind) -> message, for the kinds kubectl's generators POST.
TOP_LEVEL: dict[tuple[str, str], str] = {
    ("apps/v1", "Deployment"): "Deployment",
    ("v1", "ConfigMap"): "ConfigMap",
    ("v1", "Secret"): "Secret",
    ("v1", "Namespace"): "Namespace",
    ("v1", "Service"): "Service",
    ("networking.k8s.io/v1", "Ingress"): "Ingress",
}

_SCALARS = {
    "string": descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
    "int32": descriptor_pb2.FieldDescriptorProto.TYPE_INT32,
    "int64": descriptor_pb2.FieldDescriptorProto.TYPE_INT64,
    "bool": descriptor_pb2.FieldDescriptorProto.TYPE_BOOL,
    "bytes": descriptor_pb2.FieldDescriptorProto.TYPE_BYTES,
}


class FieldSpec:
    """One parsed field of :data:`MESSAGES`."""

    def __init__(self, text: str):
        name, _, rest = text.partition("=")
        number, _, type_text = rest.partition(":")
        self.name = name
        self.number = int(number)
        self.repeated = type_text.startswith("*")
        self.pointer = type_text.startswith("?")
        self.inline = type_text.startswith(">")
        type_text = type_text.lstrip("*?>")
        self.map_value = type_text[1:-1] if type_text.startswith("{") else None
        self.type = self.map_value or type_text


@functools.cache
def fields_of(message: str) -> dict[str, FieldSpec]:
    return {spec.name: spec for spec in (FieldSpec(t) for t in MESSAGES[message].split())}


def _set_type(field: descriptor_pb2.FieldDescriptorProto, type_name: str) -> None:
    if type_name in _SCALARS:
        field.type = _SCALARS[type_name]
    else:
        field.type = descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
        field.type_name = f".{PACKAGE}.{type_name}"


@functools.cache
def _pool() -> descriptor_pool.DescriptorPool:
    """The descriptors of :data:`MESSAGES`, built once (proto2, so presence is tracked)."""
    file = descriptor_pb2.FileDescriptorProto(
        name="kubarium_k8s.proto", package=PACKAGE, syntax="proto2"
    )
    for message_name in MESSAGES:
        message = file.message_type.add(name=message_name)
        for spec in fields_of(message_name).values():
            field = message.field.add(name=spec.name, number=spec.number)
            if spec.map_value is not None:
                entry_name = spec.name[0].upper() + spec.name[1:] + "Entry"
                entry = message.nested_type.add(name=entry_name)
                entry.options.map_entry = True
                key = entry.field.add(name="key", number=1)
                key.label = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
                key.type = descriptor_pb2.FieldDescriptorProto.TYPE_STRING
                value = entry.field.add(name="value", number=2)
                value.label = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
                _set_type(value, spec.map_value)
                field.label = descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
                field.type = descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
                field.type_name = f".{PACKAGE}.{message_name}.{entry_name}"
                continue
            field.label = (
                descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
                if spec.repeated
                else descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
            )
            _set_type(field, spec.type)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return pool


def message_class(name: str) -> type[Message]:
    return message_factory.GetMessageClass(_pool().FindMessageTypeByName(f"{PACKAGE}.{name}"))


def _parse(name: str, data: bytes) -> Message:
    message = message_class(name)()
    try:
        message.ParseFromString(data)
    except DecodeError as error:
        raise BadRequest(f"unable to decode the protobuf body as {name}: {error}") from None
    return message


# --- decoding --------------------------------------------------------------------------------


def decode(data: bytes) -> dict[str, Any]:
    """A protobuf request body as the Kubernetes JSON object it encodes."""
    if not data.startswith(MAGIC):
        raise BadRequest("the protobuf body does not start with the Kubernetes magic 'k8s\\x00'")
    unknown = _parse("Unknown", data[len(MAGIC) :])
    api_version, kind = unknown.typeMeta.apiVersion, unknown.typeMeta.kind
    if unknown.contentEncoding:
        raise BadRequest(f"unsupported protobuf content encoding {unknown.contentEncoding!r}")
    message_name = TOP_LEVEL.get((api_version, kind))
    if message_name is None:
        raise BadRequest(
            f"protobuf bodies for {kind} ({api_version}) are not supported by this server; "
            "send JSON instead (kubectl create -f / apply -f)"
        )
    message = _parse(message_name, unknown.raw)
    obj = {"apiVersion": api_version, "kind": kind}
    obj.update(to_json(message, message_name, kind))
    return obj


def _check_known(message: Message, path: str) -> None:
    from google.protobuf.unknown_fields import UnknownFieldSet

    unknown = UnknownFieldSet(message)
    if len(unknown):
        numbers = sorted({field.field_number for field in unknown})
        raise BadRequest(
            f"the protobuf body sets field(s) {numbers} of {path}, which this server does not "
            "decode yet; send JSON instead (kubectl create -f / apply -f)"
        )


def to_json(message: Message, name: str, path: str) -> dict[str, Any]:
    """One message as Kubernetes JSON (empty values dropped, special types converted)."""
    _check_known(message, path)
    out: dict[str, Any] = {}
    specs = fields_of(name)
    for descriptor, value in message.ListFields():
        spec = specs[descriptor.name]
        where = f"{path}.{spec.name}"
        if spec.map_value is not None:
            converted = {key: _value(v, spec.map_value, where) for key, v in value.items()}
            converted = {k: v for k, v in converted.items() if v is not None}
        elif spec.repeated:
            converted = [_value(v, spec.type, f"{where}[{i}]") for i, v in enumerate(value)]
            converted = [v if v is not None else {} for v in converted]
        else:
            converted = _value(value, spec.type, where)
        if spec.inline and isinstance(converted, dict):
            out.update(converted)
            continue
        if _empty(converted) and not (spec.pointer and converted is not None):
            continue
        out[spec.name] = converted
    return out


def _empty(value: Any) -> bool:
    return (
        value is None or value == "" or value == 0 or value is False or value == {} or value == []
    )


def _value(value: Any, type_name: str, path: str) -> Any:
    if type_name == "bytes":
        return base64.b64encode(value).decode()
    if type_name in _SCALARS:
        return value
    if type_name == "Time":
        _check_known(value, path)
        if not value.seconds:
            return None
        moment = dt.datetime.fromtimestamp(value.seconds, dt.UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if type_name == "IntOrString":
        _check_known(value, path)
        return value.strVal if value.type == 1 else value.intVal
    if type_name == "Quantity":
        _check_known(value, path)
        return value.string or None
    if type_name == "FieldsV1":
        _check_known(value, path)
        try:
            return json.loads(value.Raw) if value.Raw else None
        except ValueError:
            raise BadRequest(f"{path}: FieldsV1 is not JSON") from None
    return to_json(value, type_name, path)
