"""The lesson file format: one YAML file per lesson in ``dashboard/lessons/``, read strictly.

``load(path)`` parses and validates a file into a :class:`Lesson` (frozen dataclasses, no I/O
beyond reading the file). Every problem found is reported at once, each naming the file, the
step (1-based, as the player counts them) and the field in Kubernetes' words::

    01-nodes-and-pods.yaml: step 4 (wait): until.podsReady.count: Invalid value: -1: must be
    greater than or equal to 0

The format is described for authors in ``docs/teaching.md`` ("Writing a lesson"); this module
is its reference. Text is bilingual: every text field is ``{en: ..., zh-hans: ...}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cluster import faults, manifests, quantity
from cluster.store.errors import FieldError
from cluster.store.selectors import SelectorError, parse_label_selector

LANGUAGES = ("en", "zh-hans")
FILE_NAME = re.compile(r"^(\d{2})-([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.yaml$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
NAMESPACE_PREFIX = "lesson-"
LESSON_LABEL = "kubarium.io/lesson"  # on the lesson's namespace and nodes; the nodes' taint key

STEP_TYPES = ("narrate", "apply", "act", "wait", "predict")
COMPONENTS = (
    "kube-apiserver",
    "etcd",
    "kube-scheduler",
    "kube-controller-manager",
    "cloud-controller-manager",
)
HIGHLIGHT_KINDS = (
    "Node",
    "Pod",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Service",
    "Ingress",
    "ConfigMap",
    "Secret",
    "PersistentVolumeClaim",
    "HorizontalPodAutoscaler",
)
SCALABLE = ("deployment", "replicaset", "statefulset")
IMAGE_KINDS = ("deployment", "replicaset", "statefulset", "daemonset")
POD_PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")
FORBIDDEN_KINDS = ("Namespace", "Node")
MIN_SPEED = 0.25  # the clock's own bounds (cluster.simclock)
MAX_SPEED = 1000.0
DEFAULT_TIMEOUT = 300.0


class LessonFormatError(ValueError):
    """A lesson file that cannot be used: every problem, each naming file, step and field."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(problems))


# --- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A text in every language of the dashboard."""

    en: str
    zh_hans: str

    def get(self, language: str | None) -> str:
        return self.zh_hans if (language or "").lower().startswith("zh") else self.en

    def as_dict(self) -> dict[str, str]:
        return {"en": self.en, "zh-hans": self.zh_hans}


@dataclass(frozen=True)
class Highlight:
    """What a step marks on the cluster view: a control-plane component, or an object (a Pod
    also by label selector, since a Deployment's Pods have generated names)."""

    component: str = ""
    kind: str = ""
    name: str = ""
    selector: str = ""

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}


@dataclass(frozen=True)
class ClockSetting:
    speed: float | None = None
    paused: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass(frozen=True)
class Timeout:
    seconds: float
    clock: str  # "simulated" or "real"


@dataclass(frozen=True)
class Step:
    """One step. ``type`` says which of the optional fields apply; ``params`` holds the act's
    or the condition's fields as written (validated)."""

    number: int  # 1-based
    type: str
    text: Text | None = None
    highlight: Highlight | None = None
    clock: ClockSetting | None = None
    manifest: str = ""  # apply
    documents: tuple[dict[str, Any], ...] = ()  # apply, namespace filled in
    action: str = ""  # act
    condition: str = ""  # wait
    params: Mapping[str, Any] = field(default_factory=dict)
    timeout: Timeout | None = None  # wait
    failure: Text | None = None  # wait
    question: Text | None = None  # predict
    choices: tuple[Text, ...] = ()
    answer: int = 0
    explanation: Text | None = None


@dataclass(frozen=True)
class NodeSpec:
    name: str
    cpu: str
    memory: str
    zone: str = ""


@dataclass(frozen=True)
class Lesson:
    id: str
    order: int
    title: Text
    summary: Text
    namespace: str
    speed: float
    nodes: tuple[NodeSpec, ...]
    steps: tuple[Step, ...]
    source: str

    def node_names(self) -> set[str]:
        """Nodes the lesson owns: declared ones and those an ``addNode`` act creates."""
        names = {n.name for n in self.nodes}
        names.update(
            str(s.params["name"]) for s in self.steps if s.type == "act" and s.action == "addNode"
        )
        return names

    def components_stopped(self) -> set[str]:
        """Control-plane components a ``stopComponent`` act of the lesson may leave stopped."""
        return {
            str(s.params["component"])
            for s in self.steps
            if s.type == "act" and s.action == "stopComponent"
        }

    def reveal_step(self, predict_index: int) -> int | None:
        """The index of the wait step whose holding reveals a predict step's answer: the first
        wait after it."""
        for index in range(predict_index + 1, len(self.steps)):
            if self.steps[index].type == "wait":
                return index
        return None


# --- the vocabulary of acts and conditions: field -> checker ------------------------------------

# A checker is (required, kind) where kind is one of: "name", "node", "int>=0", "int>=1",
# "selector", "string", "number>0", "status", "phase", "since", "component", "target:<kinds>",
# "quantity".
ACTS: dict[str, dict[str, tuple[bool, str]]] = {
    "scale": {"target": (True, "target:" + ",".join(SCALABLE)), "replicas": (True, "int>=0")},
    "setImage": {
        "target": (True, "target:" + ",".join(IMAGE_KINDS)),
        "container": (True, "name"),
        "image": (True, "string"),
    },
    "rollback": {"deployment": (True, "name"), "toRevision": (False, "int>=0")},
    "deletePod": {"pod": (False, "name"), "selector": (False, "selector"), "node": (False, "node")},
    "stopKubelet": {"node": (True, "node")},
    "startKubelet": {"node": (True, "node")},
    "cordon": {"node": (True, "node")},
    "uncordon": {"node": (True, "node")},
    "drain": {"node": (True, "node")},
    "addNode": {
        "name": (True, "name"),
        "cpu": (True, "quantity"),
        "memory": (True, "quantity"),
        "zone": (False, "string"),
    },
    "sendRequest": {
        "service": (False, "name"),
        "port": (False, "int>=1"),
        "host": (False, "string"),
        "path": (False, "string"),
        "count": (False, "int>=1"),
    },
    "startTraffic": {
        "service": (False, "name"),
        "host": (False, "string"),
        "path": (False, "string"),
        "rps": (True, "number>0"),
    },
    "stopTraffic": {},
    # Control-plane switches (cluster.faults, as the failure palette's): a component stopped by
    # a lesson is started again when the lesson (re)starts.
    "stopComponent": {"component": (True, "component")},
    "startComponent": {"component": (True, "component")},
}

# An event condition counts the events recorded since its wait step began ("step", the default)
# or since the lesson started ("lesson": every event in its namespace, which each start
# recreates), for a step that may come after what it waits for (a tour told after the fact).
EVENT_SINCE = ("step", "lesson")

CONDITIONS: dict[str, dict[str, tuple[bool, str]]] = {
    "podsReady": {
        "selector": (True, "selector"),
        "count": (True, "int>=0"),
        "node": (False, "node"),
    },
    "podPhase": {
        "pod": (False, "name"),
        "selector": (False, "selector"),
        "phase": (False, "phase"),
        "reason": (False, "string"),
        "count": (False, "int>=1"),
    },
    "rolloutComplete": {"deployment": (True, "name")},
    "progressDeadlineExceeded": {"deployment": (True, "name")},
    "event": {
        "reason": (True, "string"),
        "kind": (False, "string"),
        "name": (False, "name"),
        "count": (False, "int>=1"),
        "since": (False, "since"),
    },
    "nodeReady": {"node": (True, "node")},
    "nodeNotReady": {"node": (True, "node")},
    "hpaReplicas": {"hpa": (True, "name"), "replicas": (True, "int>=0")},
    "endpoints": {
        "service": (True, "name"),
        "ready": (True, "int>=0"),
        "notReady": (False, "int>=0"),
    },
    "request": {
        "service": (False, "name"),
        "port": (False, "int>=1"),
        "host": (False, "string"),
        "path": (False, "string"),
        "status": (True, "status"),
        "backend": (False, "name"),
    },
}

TOP_FIELDS = ("id", "title", "summary", "namespace", "speed", "nodes", "steps")
COMMON_STEP_FIELDS = ("type", "text", "highlight", "clock")
STEP_FIELDS = {
    "narrate": (),
    "apply": ("manifest",),
    "act": ("action", *{f for fields in ACTS.values() for f in fields}),
    "wait": ("until", "timeout", "failure"),
    "predict": ("question", "choices", "answer", "explanation"),
}


# --- reading -------------------------------------------------------------------------------------


class _Problems:
    """Collects problems; ``at`` is the prefix naming where ("step 3 (wait)")."""

    def __init__(self, source: str):
        self.source = source
        self.items: list[str] = []
        self.at = ""

    def add(self, error: FieldError | str) -> None:
        where = f"{self.source}: " + (f"{self.at}: " if self.at else "")
        self.items.append(where + str(error))


def load(path: str | Path) -> Lesson:
    """Read and validate one lesson file; raises :class:`LessonFormatError` naming every
    problem."""
    path = Path(path)
    source = path.name
    match = FILE_NAME.match(source)
    if not match:
        raise LessonFormatError(
            source,
            [
                f"{source}: the file name must be NN-<id>.yaml (two digits, then the lesson's "
                f"id in lowercase letters, digits and '-')"
            ],
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise LessonFormatError(source, [f"{source}: invalid YAML{where}: {problem}"]) from None
    return parse(raw, source, order=int(match.group(1)), expected_id=match.group(2))


def parse(raw: Any, source: str, *, order: int = 0, expected_id: str | None = None) -> Lesson:
    """Validate a lesson already parsed from YAML (see :func:`load`)."""
    problems = _Problems(source)
    if not isinstance(raw, dict):
        problems.add("the file must be a mapping with id, title, summary, namespace and steps")
        raise LessonFormatError(source, problems.items)
    _unknown(problems, raw, TOP_FIELDS, "")
    lesson_id = _string(problems, raw, "id", required=True)
    if lesson_id and not DNS_LABEL.match(lesson_id):
        problems.add(
            FieldError.invalid("id", lesson_id, "must be lowercase letters, digits and '-'")
        )
    elif lesson_id and expected_id is not None and lesson_id != expected_id:
        problems.add(
            FieldError.invalid("id", lesson_id, f'must match the file name ("{expected_id}")')
        )
    title = _text(problems, raw, "title", required=True)
    summary = _text(problems, raw, "summary", required=True)
    namespace = _string(problems, raw, "namespace", required=True)
    if namespace and (
        not DNS_LABEL.match(namespace)
        or not namespace.startswith(NAMESPACE_PREFIX)
        or len(namespace) > 63
    ):
        problems.add(
            FieldError.invalid(
                "namespace",
                namespace,
                f'must be a DNS label starting with "{NAMESPACE_PREFIX}" (the lesson deletes '
                "and recreates it)",
            )
        )
    speed = _number(problems, raw, "speed", "speed", minimum=MIN_SPEED, default=1.0)
    if speed is not None and speed > MAX_SPEED:
        problems.add(FieldError.invalid("speed", speed, f"must be at most {MAX_SPEED:g}"))
    nodes = _nodes(problems, raw.get("nodes"))
    raw_steps = raw.get("steps")
    steps: list[Step] = []
    if raw_steps is None:
        problems.add(FieldError.required("steps"))
    elif not isinstance(raw_steps, list) or not raw_steps:
        problems.add(FieldError.invalid("steps", "", "must be a non-empty list of steps"))
    else:
        node_names = {n.name for n in nodes}
        for raw_step in raw_steps:
            if (
                isinstance(raw_step, dict)
                and raw_step.get("type") == "act"
                and raw_step.get("action") == "addNode"
                and isinstance(raw_step.get("name"), str)
            ):
                node_names.add(raw_step["name"])
        for index, raw_step in enumerate(raw_steps):
            step = _step(problems, raw_step, index + 1, namespace or "", node_names)
            if step is not None:
                steps.append(step)
        problems.at = ""
        types = [s.get("type") if isinstance(s, dict) else None for s in raw_steps]
        for step in steps:
            if step.type == "predict" and "wait" not in types[step.number :]:
                problems.at = f"step {step.number} (predict)"
                problems.add(
                    "a predict step needs a later wait step: its answer is revealed when "
                    "that wait holds"
                )
    if problems.items:
        raise LessonFormatError(source, problems.items)
    return Lesson(
        id=lesson_id,
        order=order,
        title=title,
        summary=summary,
        namespace=namespace,
        speed=speed or 1.0,
        nodes=tuple(nodes),
        steps=tuple(steps),
        source=source,
    )


def _unknown(problems: _Problems, raw: dict, allowed, prefix: str) -> None:
    for key in raw:
        if key not in allowed:
            problems.add(FieldError.forbidden(f"{prefix}{key}", "unknown field"))


def _string(problems: _Problems, raw: dict, key: str, *, required: bool = False, path: str = ""):
    path = path or key
    value = raw.get(key)
    if value is None:
        if required:
            problems.add(FieldError.required(path))
        return ""
    if not isinstance(value, str) or not value.strip():
        problems.add(FieldError.invalid(path, value, "must be a non-empty string"))
        return ""
    return value


def _number(problems, raw, key, path, *, minimum, default=None, exclusive=False):
    value = raw.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.add(FieldError.invalid(path, value, "must be a number"))
        return None
    if value < minimum or (exclusive and value == minimum):
        word = "greater than" if exclusive else "greater than or equal to"
        problems.add(FieldError.invalid(path, value, f"must be {word} {minimum:g}"))
        return None
    return float(value)


def _text(problems: _Problems, raw: dict, key: str, *, required: bool = False, path: str = ""):
    path = path or key
    value = raw.get(key)
    if value is None:
        if required:
            problems.add(FieldError.required(path))
        return None
    return _text_value(problems, value, path)


def _text_value(problems: _Problems, value: Any, path: str) -> Text | None:
    if not isinstance(value, dict):
        problems.add(
            FieldError.invalid(
                path, value, "must be a mapping of languages: {en: ..., zh-hans: ...}"
            )
        )
        return None
    ok = True
    for key in value:
        if key not in LANGUAGES:
            problems.add(FieldError.not_supported(f"{path}.{key}", key, LANGUAGES))
            ok = False
    for language in LANGUAGES:
        text = value.get(language)
        if text is None:
            problems.add(FieldError.required(f"{path}.{language}"))
            ok = False
        elif not isinstance(text, str) or not text.strip():
            problems.add(
                FieldError.invalid(f"{path}.{language}", text, "must be a non-empty string")
            )
            ok = False
    return Text(value["en"].strip(), chinese(value["zh-hans"])) if ok else None


# Chinese characters and full-width punctuation (CJK symbols, ideographs, full-width forms).
_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
_BETWEEN_CJK = re.compile(f"(?<=[{_CJK}])\\s+(?=[{_CJK}])")


def chinese(text: str) -> str:
    """Chinese text as written: YAML folds a wrapped line into a space, which English wants and
    Chinese does not, so white space between two Chinese characters goes (and the ends are
    trimmed). Spaces beside Latin words and numbers stay.

    >>> chinese("调度器把 Pod\n放到空闲的\n节点上。")
    '调度器把 Pod\n放到空闲的节点上。'
    """
    return _BETWEEN_CJK.sub("", text.strip())


def _nodes(problems: _Problems, raw: Any) -> list[NodeSpec]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add(FieldError.invalid("nodes", raw, "must be a list of nodes"))
        return []
    nodes: list[NodeSpec] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        path = f"nodes[{index}]"
        if not isinstance(entry, dict):
            problems.add(FieldError.invalid(path, entry, "must be a mapping"))
            continue
        _unknown(problems, entry, ("name", "cpu", "memory", "zone"), f"{path}.")
        before = len(problems.items)
        name = _checked(problems, entry, "name", (True, "name"), f"{path}.name")
        cpu = _checked(problems, entry, "cpu", (True, "quantity"), f"{path}.cpu")
        memory = _checked(problems, entry, "memory", (True, "quantity"), f"{path}.memory")
        zone = _checked(problems, entry, "zone", (False, "string"), f"{path}.zone")
        if name in seen:
            problems.add(FieldError.duplicate(f"{path}.name", name))
        if len(problems.items) == before:
            seen.add(name)
            nodes.append(NodeSpec(name, str(cpu), str(memory), zone or ""))
    return nodes


_MISSING = object()


def _checked(
    problems: _Problems, raw: dict, key: str, rule: tuple[bool, str], path: str, nodes=None
):
    """Check one field of an act or a condition against its rule; returns the value or None."""
    required, check = rule
    value = raw.get(key, _MISSING)
    if value is _MISSING or value is None:
        if required:
            problems.add(FieldError.required(path))
        return None
    if check in ("int>=0", "int>=1", "status"):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.add(FieldError.invalid(path, value, "must be an integer"))
            return None
        low = {"int>=0": 0, "int>=1": 1, "status": 100}[check]
        if value < low:
            problems.add(FieldError.invalid(path, value, f"must be greater than or equal to {low}"))
            return None
        if check == "status" and value > 599:
            problems.add(FieldError.invalid(path, value, "must be an HTTP status (100 to 599)"))
            return None
        return value
    if check == "number>0":
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            problems.add(FieldError.invalid(path, value, "must be a number greater than 0"))
            return None
        return float(value)
    if not isinstance(value, str) or not value.strip():
        problems.add(FieldError.invalid(path, value, "must be a non-empty string"))
        return None
    if check in ("name", "node"):
        if not DNS_LABEL.match(value) or len(value) > 253:
            problems.add(
                FieldError.invalid(path, value, "must be lowercase letters, digits and '-'")
            )
            return None
        if check == "node" and nodes is not None and value not in nodes:
            problems.add(
                FieldError.invalid(
                    path,
                    value,
                    "must be one of the lesson's nodes (declared in nodes, or added by an "
                    "addNode act): a lesson never touches other nodes",
                )
            )
            return None
    elif check == "selector":
        try:
            parse_label_selector(value)
        except SelectorError as error:
            problems.add(FieldError.invalid(path, value, str(error)))
            return None
    elif check == "component":
        if value not in faults.COMPONENTS:
            problems.add(FieldError.not_supported(path, value, faults.COMPONENTS))
            return None
    elif check == "since":
        if value not in EVENT_SINCE:
            problems.add(FieldError.not_supported(path, value, EVENT_SINCE))
            return None
    elif check == "phase":
        if value not in POD_PHASES:
            problems.add(FieldError.not_supported(path, value, POD_PHASES))
            return None
    elif check == "quantity":
        try:
            quantity.Quantity.parse(value)
        except (quantity.QuantityError, ValueError, TypeError) as error:
            problems.add(FieldError.invalid(path, value, str(error)))
            return None
    elif check.startswith("target:"):
        allowed = check.split(":", 1)[1].split(",")
        kind, _, name = value.partition("/")
        if kind.lower() not in allowed or not DNS_LABEL.match(name or "-"):
            problems.add(
                FieldError.invalid(
                    path, value, "must be <kind>/<name> with kind one of " + ", ".join(allowed)
                )
            )
            return None
    return value


def _step(problems: _Problems, raw: Any, number: int, namespace: str, nodes: set[str]):
    kind = raw.get("type") if isinstance(raw, dict) else None
    problems.at = f"step {number}" + (f" ({kind})" if kind in STEP_TYPES else "")
    if not isinstance(raw, dict):
        problems.add("a step must be a mapping with a type")
        return None
    if kind is None:
        problems.add(FieldError.required("type"))
        return None
    if kind not in STEP_TYPES:
        problems.add(FieldError.not_supported("type", kind, STEP_TYPES))
        return None
    before = len(problems.items)
    _unknown(problems, raw, COMMON_STEP_FIELDS + STEP_FIELDS[kind], "")
    text = _text(problems, raw, "text", required=kind == "narrate")
    highlight = _highlight(problems, raw.get("highlight"), nodes)
    clock = _clock(problems, raw.get("clock"))
    values: dict[str, Any] = {
        "number": number,
        "type": kind,
        "text": text,
        "highlight": highlight,
        "clock": clock,
    }
    if kind == "apply":
        values.update(_apply(problems, raw, namespace))
    elif kind == "act":
        values.update(_act(problems, raw, nodes))
    elif kind == "wait":
        values.update(_wait(problems, raw, nodes))
    elif kind == "predict":
        values.update(_predict(problems, raw))
    if len(problems.items) > before:
        return None
    return Step(**values)


def _highlight(problems: _Problems, raw: Any, nodes: set[str]) -> Highlight | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.add(FieldError.invalid("highlight", raw, "must be a mapping"))
        return None
    _unknown(problems, raw, ("component", "kind", "name", "selector"), "highlight.")
    if "component" in raw:
        if set(raw) - {"component"}:
            problems.add(
                FieldError.invalid(
                    "highlight", "", "give either component, or kind with name or selector"
                )
            )
            return None
        if raw["component"] not in COMPONENTS:
            problems.add(
                FieldError.not_supported("highlight.component", raw["component"], COMPONENTS)
            )
            return None
        return Highlight(component=raw["component"])
    kind = raw.get("kind")
    if kind is None:
        problems.add(FieldError.required("highlight.kind"))
        return None
    if kind not in HIGHLIGHT_KINDS:
        problems.add(FieldError.not_supported("highlight.kind", kind, HIGHLIGHT_KINDS))
        return None
    name = _checked(problems, raw, "name", (False, "name"), "highlight.name")
    selector = _checked(problems, raw, "selector", (False, "selector"), "highlight.selector")
    if bool(name) == bool(selector) or (selector and kind != "Pod"):
        problems.add(
            FieldError.invalid(
                "highlight", "", "give a name, or (for Pods only) a selector; not both"
            )
        )
        return None
    return Highlight(kind=kind, name=name or "", selector=selector or "")


def _clock(problems: _Problems, raw: Any) -> ClockSetting | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw:
        problems.add(FieldError.invalid("clock", raw, "must be a mapping with speed and/or paused"))
        return None
    _unknown(problems, raw, ("speed", "paused"), "clock.")
    speed = _number(problems, raw, "speed", "clock.speed", minimum=MIN_SPEED)
    if speed is not None and speed > MAX_SPEED:
        problems.add(FieldError.invalid("clock.speed", speed, f"must be at most {MAX_SPEED:g}"))
    paused = raw.get("paused")
    if paused is not None and not isinstance(paused, bool):
        problems.add(FieldError.invalid("clock.paused", paused, "must be true or false"))
        paused = None
    return ClockSetting(speed=speed, paused=paused)


def _apply(problems: _Problems, raw: dict, namespace: str) -> dict[str, Any]:
    manifest = _string(problems, raw, "manifest", required=True)
    if not manifest:
        return {}
    try:
        documents = manifests.load_text(manifest, "manifest")
    except manifests.ManifestError as error:
        for problem in error.problems:
            problems.add(FieldError.invalid("manifest", "", "; ".join(problem.messages)))
        return {}
    if not documents:
        problems.add(FieldError.invalid("manifest", "", "has no objects"))
        return {}
    objects = []
    for position, document in enumerate(documents):
        path = f"manifest[{position}]"
        obj = document.obj
        if not isinstance(obj, dict) or not obj.get("apiVersion") or not obj.get("kind"):
            problems.add(FieldError.invalid(path, "", "must be an object with apiVersion and kind"))
            continue
        meta = obj.get("metadata")
        if not isinstance(meta, dict) or not meta.get("name"):
            problems.add(FieldError.required(f"{path}.metadata.name"))
            continue
        if obj["kind"] in FORBIDDEN_KINDS:
            problems.add(
                FieldError.forbidden(
                    f"{path}.kind",
                    f"a lesson's manifest may not create a {obj['kind']}: the lesson makes its "
                    "namespace and nodes itself",
                )
            )
            continue
        given = meta.get("namespace")
        if given not in (None, namespace):
            problems.add(
                FieldError.invalid(
                    f"{path}.metadata.namespace",
                    given,
                    f'must be left out or be the lesson\'s namespace ("{namespace}")',
                )
            )
            continue
        objects.append(obj)
    return {"manifest": manifest, "documents": tuple(objects)}


def _act(problems: _Problems, raw: dict, nodes: set[str]) -> dict[str, Any]:
    action = raw.get("action")
    if action is None:
        problems.add(FieldError.required("action"))
        return {}
    if action not in ACTS:
        problems.add(FieldError.not_supported("action", action, ACTS))
        return {}
    fields = ACTS[action]
    for key in raw:
        if key not in COMMON_STEP_FIELDS + ("action",) and key not in fields:
            problems.add(FieldError.forbidden(key, f"not a field of the {action} action"))
    params = {}
    for key, rule in fields.items():
        value = _checked(problems, raw, key, rule, key, nodes)
        if value is not None:
            params[key] = value
    if action == "deletePod" and ("pod" in raw) == ("selector" in raw):
        problems.add(FieldError.invalid("pod", "", "give either pod or selector"))
    if action in ("sendRequest", "startTraffic"):
        _target_fields(problems, raw, "")
    return {"action": action, "params": params}


def _target_fields(problems: _Problems, raw: dict, prefix: str) -> None:
    if ("service" in raw) == ("host" in raw):
        problems.add(
            FieldError.invalid(f"{prefix}service", "", "give either service, or host and path")
        )
    if "service" in raw and "path" in raw:
        problems.add(FieldError.forbidden(f"{prefix}path", "only with host"))
    if "host" in raw and "port" in raw:
        problems.add(FieldError.forbidden(f"{prefix}port", "only with service"))


def _wait(problems: _Problems, raw: dict, nodes: set[str]) -> dict[str, Any]:
    until = raw.get("until")
    result: dict[str, Any] = {}
    if until is None:
        problems.add(FieldError.required("until"))
    elif not isinstance(until, dict) or len(until) != 1:
        problems.add(
            FieldError.invalid(
                "until",
                until,
                "must be a mapping with exactly one condition: " + ", ".join(CONDITIONS),
            )
        )
    else:
        ((name, body),) = until.items()
        if name not in CONDITIONS:
            problems.add(FieldError.not_supported(f"until.{name}", name, CONDITIONS))
        elif not isinstance(body, dict):
            problems.add(FieldError.invalid(f"until.{name}", body, "must be a mapping"))
        else:
            fields = CONDITIONS[name]
            _unknown(problems, body, fields, f"until.{name}.")
            params = {}
            for key, rule in fields.items():
                value = _checked(problems, body, key, rule, f"until.{name}.{key}", nodes)
                if value is not None:
                    params[key] = value
            if name == "podPhase":
                if ("pod" in body) == ("selector" in body):
                    problems.add(
                        FieldError.invalid(f"until.{name}.pod", "", "give either pod or selector")
                    )
                if "phase" not in body and "reason" not in body:
                    problems.add(FieldError.required(f"until.{name}.phase", "phase or reason"))
            if name == "request":
                _target_fields(problems, body, f"until.{name}.")
            result = {"condition": name, "params": params}
    timeout = raw.get("timeout")
    result["timeout"] = Timeout(DEFAULT_TIMEOUT, "simulated")
    if timeout is not None:
        if (
            not isinstance(timeout, dict)
            or len(timeout) != 1
            or next(iter(timeout))
            not in (
                "simulated",
                "real",
            )
        ):
            problems.add(
                FieldError.invalid(
                    "timeout", timeout, "must be {simulated: <seconds>} or {real: <seconds>}"
                )
            )
        else:
            ((which, seconds),) = timeout.items()
            value = _number(
                problems, timeout, which, f"timeout.{which}", minimum=0.0, exclusive=True
            )
            if value is not None:
                result["timeout"] = Timeout(value, which)
    result["failure"] = _text(problems, raw, "failure")
    return result


def _predict(problems: _Problems, raw: dict) -> dict[str, Any]:
    question = _text(problems, raw, "question", required=True)
    explanation = _text(problems, raw, "explanation", required=True)
    raw_choices = raw.get("choices")
    choices: list[Text] = []
    if raw_choices is None:
        problems.add(FieldError.required("choices"))
    elif not isinstance(raw_choices, list) or len(raw_choices) < 2:
        problems.add(FieldError.invalid("choices", "", "must be a list of at least 2 choices"))
    else:
        for index, choice in enumerate(raw_choices):
            text = _text_value(problems, choice, f"choices[{index}]")
            if text is not None:
                choices.append(text)
    answer = raw.get("answer")
    if answer is None:
        problems.add(FieldError.required("answer"))
        answer = 0
    elif isinstance(answer, bool) or not isinstance(answer, int):
        problems.add(
            FieldError.invalid("answer", answer, "must be the index of a choice (0 is the first)")
        )
        answer = 0
    elif isinstance(raw_choices, list) and not 0 <= answer < len(raw_choices):
        problems.add(
            FieldError.invalid(
                "answer", answer, f"must be the index of a choice, 0 to {len(raw_choices) - 1}"
            )
        )
    return {
        "question": question,
        "choices": tuple(choices),
        "answer": answer,
        "explanation": explanation,
    }
