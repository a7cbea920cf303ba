"""The lesson file format: every shipped lesson loads; bad files give exact errors that name the
file, the step and the field."""

from __future__ import annotations

import copy
import io
import textwrap
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from dashboard.lessons import engine, format

T = {"en": "Hello", "zh-hans": "你好"}
POD = textwrap.dedent(
    """\
    apiVersion: v1
    kind: Pod
    metadata: {name: p}
    spec: {containers: [{name: app, image: nginx:1.27}]}
    """
)
GOOD = {
    "id": "sample",
    "title": T,
    "summary": T,
    "namespace": "lesson-sample",
    "nodes": [{"name": "sample-a", "cpu": "2", "memory": "4Gi"}],
    "steps": [
        {"type": "narrate", "text": T, "highlight": {"component": "kube-scheduler"}},
        {"type": "apply", "manifest": POD},
        {"type": "predict", "question": T, "choices": [T, T], "answer": 1, "explanation": T},
        {"type": "act", "action": "stopKubelet", "node": "sample-a"},
        {
            "type": "wait",
            "until": {"podsReady": {"selector": "app=web", "count": 2}},
            "timeout": {"real": 20},
        },
    ],
}


def write(tmp_path: Path, data, name: str = "01-sample.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True))
    return path


def changed(edit) -> dict:
    data = copy.deepcopy(GOOD)
    edit(data)
    return data


def test_every_shipped_lesson_loads():
    lessons = engine.all_lessons()
    assert [lesson.order for lesson in lessons] == sorted(lesson.order for lesson in lessons)
    assert lessons[0].id == "nodes-and-pods"
    for lesson in lessons:
        assert lesson.namespace.startswith("lesson-")
        for step in lesson.steps:
            for text in (step.text, step.question, step.explanation, step.failure, *step.choices):
                if text is not None:
                    assert text.en and text.zh_hans and text.en != text.zh_hans


def test_a_good_file_loads(tmp_path):
    lesson = format.load(write(tmp_path, GOOD))
    assert lesson.id == "sample" and lesson.order == 1 and len(lesson.steps) == 5
    assert lesson.steps[4].timeout == format.Timeout(20.0, "real")
    assert lesson.steps[1].documents[0]["metadata"] == {"name": "p"}
    assert lesson.reveal_step(2) == 4
    assert lesson.steps[0].text.get("zh-hans") == "你好"
    assert lesson.steps[0].text.get("en") == "Hello"


def _set(path: str, value):
    def edit(data):
        target = data
        keys = path.split(".")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        last = keys[-1]
        if value is _DELETE:
            del target[int(last) if last.isdigit() else last]
        elif last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value

    return edit


_DELETE = object()

BAD = [
    (
        _set("steps.0.text", {"en": "Hello"}),
        ["01-sample.yaml: step 1 (narrate): text.zh-hans: Required value"],
    ),
    (
        _set("steps.0.text", {"en": "Hello", "zh-hans": "你好", "fr": "Salut"}),
        [
            '01-sample.yaml: step 1 (narrate): text.fr: Unsupported value: "fr": supported '
            'values: "en", "zh-hans"'
        ],
    ),
    (
        _set("steps.0.type", "lecture"),
        [
            '01-sample.yaml: step 1: type: Unsupported value: "lecture": supported values: '
            '"narrate", "apply", "act", "wait", "predict"'
        ],
    ),
    (
        _set("steps.3.node", "worker-1"),
        [
            '01-sample.yaml: step 4 (act): node: Invalid value: "worker-1": must be one of the '
            "lesson's nodes (declared in nodes, or added by an addNode act): a lesson never "
            "touches other nodes"
        ],
    ),
    (
        _set(
            "steps.3",
            {"type": "act", "action": "scale", "target": "deployment/web", "replicas": -1},
        ),
        [
            "01-sample.yaml: step 4 (act): replicas: Invalid value: -1: must be greater than "
            "or equal to 0"
        ],
    ),
    (
        _set("steps.3", {"type": "act", "action": "explode"}),
        [
            # Every action of the vocabulary, in its order (it grows with new lessons).
            '01-sample.yaml: step 4 (act): action: Unsupported value: "explode": supported '
            'values: "scale", "setImage", "rollback", "deletePod", "stopKubelet", '
            '"startKubelet", "cordon", "uncordon", "drain", "addNode", "sendRequest", '
            '"startTraffic", "stopTraffic"'
            + "".join(f', "{action}"' for action in list(format.ACTS)[13:])
        ],
    ),
    (
        _set("steps.4.until", {"podsReady": {"selector": "app=web"}}),
        ["01-sample.yaml: step 5 (wait): until.podsReady.count: Required value"],
    ),
    (
        _set("steps.4.until", {"podsReady": {"selector": "app=web", "count": 1}, "event": {}}),
        [
            "01-sample.yaml: step 5 (wait): until: Invalid value: "
            + '{"event":{},"podsReady":{"count":1,"selector":"app=web"}}'
            + ": must be a mapping with exactly one condition: podsReady, podPhase, "
            "rolloutComplete, progressDeadlineExceeded, event, nodeReady, nodeNotReady, "
            "hpaReplicas, endpoints, request"
        ],
    ),
    (
        _set("steps.4.timeout", {"minutes": 2}),
        [
            '01-sample.yaml: step 5 (wait): timeout: Invalid value: {"minutes":2}: must be '
            "{simulated: <seconds>} or {real: <seconds>}"
        ],
    ),
    (
        _set("steps.4", {"type": "narrate", "text": T}),
        [
            "01-sample.yaml: step 3 (predict): a predict step needs a later wait step: its "
            "answer is revealed when that wait holds"
        ],
    ),
    (
        _set("steps.2.answer", 2),
        [
            "01-sample.yaml: step 3 (predict): answer: Invalid value: 2: must be the index of a choice, 0 to 1"
        ],
    ),
    (
        _set(
            "steps.1.manifest",
            POD.replace("metadata: {name: p}", "metadata: {name: p, namespace: shop}"),
        ),
        [
            "01-sample.yaml: step 2 (apply): manifest[0].metadata.namespace: Invalid value: "
            '"shop": must be left out or be the lesson\'s namespace ("lesson-sample")'
        ],
    ),
    (
        _set("steps.1.manifest", "apiVersion: v1\nkind: Node\nmetadata: {name: n}\n"),
        [
            "01-sample.yaml: step 2 (apply): manifest[0].kind: Forbidden: a lesson's manifest "
            "may not create a Node: the lesson makes its namespace and nodes itself"
        ],
    ),
    (
        _set("namespace", "shop"),
        [
            '01-sample.yaml: namespace: Invalid value: "shop": must be a DNS label starting '
            'with "lesson-" (the lesson deletes and recreates it)'
        ],
    ),
    (
        _set("id", "other"),
        ['01-sample.yaml: id: Invalid value: "other": must match the file name ("sample")'],
    ),
    (_set("title", _DELETE), ["01-sample.yaml: title: Required value"]),
    (
        _set("steps.0.highlight", {"kind": "Pod", "name": "a", "selector": "app=a"}),
        [
            '01-sample.yaml: step 1 (narrate): highlight: Invalid value: "": give a name, or '
            "(for Pods only) a selector; not both"
        ],
    ),
    (
        _set("steps.0.colour", "red"),
        ["01-sample.yaml: step 1 (narrate): colour: Forbidden: unknown field"],
    ),
    (
        _set("steps.0.clock", {"speed": 0.1}),
        [
            "01-sample.yaml: step 1 (narrate): clock.speed: Invalid value: 0.1: must be "
            "greater than or equal to 0.25"
        ],
    ),
    (
        _set("steps.4.until", {"podsReady": {"selector": "app in (", "count": 1}}),
        None,  # the selector parser's own message, checked by prefix below
    ),
]


@pytest.mark.parametrize(("edit", "expected"), BAD)
def test_bad_files_give_exact_errors(tmp_path, edit, expected):
    with pytest.raises(format.LessonFormatError) as caught:
        format.load(write(tmp_path, changed(edit)))
    if expected is None:
        assert len(caught.value.problems) == 1
        assert caught.value.problems[0].startswith(
            '01-sample.yaml: step 5 (wait): until.podsReady.selector: Invalid value: "app in (":'
        )
    else:
        assert caught.value.problems == expected


def test_every_problem_at_once(tmp_path):
    data = changed(_set("title", _DELETE))
    data["steps"][3]["node"] = "nowhere"
    with pytest.raises(format.LessonFormatError) as caught:
        format.load(write(tmp_path, data))
    assert [p.split(":")[1].strip() for p in caught.value.problems] == ["title", "step 4 (act)"]


def test_file_names_and_yaml(tmp_path):
    with pytest.raises(format.LessonFormatError) as caught:
        format.load(write(tmp_path, GOOD, name="sample.yaml"))
    assert caught.value.problems == [
        "sample.yaml: the file name must be NN-<id>.yaml (two digits, then the lesson's id in "
        "lowercase letters, digits and '-')"
    ]
    with pytest.raises(format.LessonFormatError) as caught:
        format.load(write(tmp_path, "id: x\ntitle: {en: a: b}\n"))
    assert caught.value.problems == [
        "01-sample.yaml: invalid YAML at line 2, column 14: expected ',' or '}', but got ':'"
    ]


def test_lessons_may_not_share_namespaces_or_nodes(tmp_path):
    write(tmp_path, GOOD)
    write(tmp_path, changed(_set("id", "again")), name="02-again.yaml")
    with pytest.raises(format.LessonFormatError) as caught:
        engine.all_lessons(tmp_path)
    assert caught.value.problems == [
        "02-again.yaml: namespace: Duplicate value: 'lesson-sample': also used by 01-sample.yaml",
        "02-again.yaml: nodes: Duplicate value: 'sample-a': also a node of 01-sample.yaml",
    ]


def test_a_broken_file_does_not_stop_the_other_lessons(tmp_path, monkeypatch):
    """The list reports the broken file; a good lesson still opens from its own file."""
    write(tmp_path, GOOD)
    write(
        tmp_path,
        changed(_set("title", _DELETE)) | {"id": "broken"},
        name="02-broken.yaml",
    )
    monkeypatch.setattr(engine, "DIRECTORY", tmp_path)
    with pytest.raises(format.LessonFormatError) as caught:
        engine.all_lessons()
    assert caught.value.problems == ["02-broken.yaml: title: Required value"]
    assert engine.get("sample").title.en == "Hello"
    with pytest.raises(format.LessonFormatError):
        engine.get("broken")
    with pytest.raises(format.LessonFormatError):
        engine.get("*")


def test_the_lesson_command_lists_the_lessons():
    out = io.StringIO()
    call_command("lesson", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:3] == ["1", "nodes-and-pods", "16"]
    assert "Nodes and Pods / 节点与 Pod" in lines[0]
    with pytest.raises(CommandError, match="no such lesson: nope"):
        call_command("lesson", "nope")


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("调度器把 Pod\n放到空闲的\n节点上。", "调度器把 Pod\n放到空闲的节点上。"),  # a folded line
        (
            "新的 Pod 去了 20% 的节点，\n而不是 80% 的。",
            "新的 Pod 去了 20% 的节点，而不是 80% 的。",
        ),
        ("  两端的空白去掉  ", "两端的空白去掉"),
        ("kubectl get pods", "kubectl get pods"),  # Latin words keep their spaces
    ],
)
def test_chinese_text_loses_the_spaces_yaml_folds_in(written, read):
    from dashboard.lessons.format import chinese

    assert chinese(written) == read


def test_no_shipped_lesson_has_a_space_between_chinese_characters():
    import dataclasses
    import re

    from dashboard.lessons.engine import all_lessons
    from dashboard.lessons.format import Text

    def texts(value):
        if isinstance(value, Text):
            yield value
        elif dataclasses.is_dataclass(value):
            for item in dataclasses.fields(value):
                yield from texts(getattr(value, item.name))
        elif isinstance(value, list | tuple):
            for item in value:
                yield from texts(item)

    between = re.compile(r"[\u4e00-\u9fff，。]\s+[\u4e00-\u9fff，。]")
    found = [
        t.zh_hans for lesson in all_lessons() for t in texts(lesson) if between.search(t.zh_hans)
    ]
    assert found == []
    assert sum(1 for lesson in all_lessons() for _ in texts(lesson)) > 100  # it did look
