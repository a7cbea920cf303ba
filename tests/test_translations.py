"""Every user-facing string has a Simplified Chinese translation, and the compiled catalogs are
current (``dashboard.catalogs``; update with ``python manage.py catalogs``)."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po
from django.utils import translation

from dashboard import catalogs

PLACEHOLDER = re.compile(r"%\((\w+)\)[sdrif]|%%")


def test_extraction_reads_python_and_templates():
    """The extractor sees each way of marking a string (so the tests below cannot pass by
    finding nothing)."""
    python = """
from django.utils.translation import gettext as _, gettext_lazy, ngettext, pgettext
_("one")
gettext_lazy("two")
ngettext("%(n)s pod", "%(n)s pods", 2)
pgettext("verb", "Drain")
_(name)  # not a literal: skipped
"""
    found = {(m.context, m.msgid, m.plural) for m in catalogs.python_messages(python)}
    assert found == {
        (None, "one", None),
        (None, "two", None),
        (None, "%(n)s pod", "%(n)s pods"),
        ("verb", "Drain", None),
    }
    template = """{% load i18n %}<p title="{% translate 'Three' %}">{% trans "Four" context "menu" %}</p>
{% blocktranslate with day=clock.day %}Day {{ day }}, 100%{% endblocktranslate %}
{% blocktrans count n=items|length %}{{ n }} item{% plural %}{{ n }} items{% endblocktrans %}
{% blocktranslate trimmed %}
  Five
  six
{% endblocktranslate %}
{{ value|default:_("Seven") }}"""
    found = {(m.context, m.msgid, m.plural) for m in catalogs.template_messages(template)}
    assert found == {
        (None, "Three", None),
        ("menu", "Four", None),
        (None, "Day %(day)s, 100%%", None),
        (None, "%(n)s item", "%(n)s items"),
        (None, "Five six", None),
        (None, "Seven", None),
    }


def test_the_project_has_strings_in_both_apps():
    assert len(catalogs.messages_of("cluster")) > 50
    assert len(catalogs.messages_of("dashboard")) > 200
    assert "Architecture" in {msgid for _ctx, msgid in catalogs.messages_of("dashboard")}


@pytest.mark.parametrize("app", list(catalogs.SOURCES))
def test_every_string_has_a_chinese_translation(app):
    missing = catalogs.untranslated(app)
    listing = "\n".join(f"  {m.msgid!r}  ({', '.join(where)})" for m, where in missing)
    assert not missing, (
        f"{len(missing)} strings of {app} lack a zh-hans translation in "
        f"{catalogs.po_path(app).relative_to(catalogs.ROOT)} "
        f"(run `python manage.py catalogs`, then translate):\n{listing}"
    )


@pytest.mark.parametrize("app", list(catalogs.SOURCES))
def test_translations_keep_every_placeholder(app):
    """A translation that drops or renames %(name)s would fail (or lie) at run time."""
    catalog = read_po(catalogs.po_path(app).open("rb"))
    wrong = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = sorted(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            if string and sorted(PLACEHOLDER.findall(string)) != wanted:
                wrong.append((ids[0], string))
    assert not wrong, wrong


@pytest.mark.parametrize("app", list(catalogs.SOURCES))
def test_compiled_catalogs_are_current(app):
    mo = catalogs.po_path(app).with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run `python manage.py catalogs`"
    assert catalogs.stale_catalogs([app]) == [], (
        f"{mo.relative_to(catalogs.ROOT)} does not match its .po: run `python manage.py catalogs`"
    )


def test_django_finds_the_app_catalogs():
    with translation.override("zh-hans"):
        assert translation.gettext("Architecture") == "架构"
        assert translation.gettext("requests per second") == "每秒请求数"  # cluster's catalog
        assert translation.ngettext("%(n)s node", "%(n)s nodes", 3) % {"n": 3} == "3 个节点"
    with translation.override("en"):
        assert translation.gettext("Architecture") == "Architecture"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path, chinese",
    [
        ("/", "控制平面"),
        ("/workloads", "工作负载"),
        ("/networking", "发送请求"),
        ("/config", "配置与存储"),
        ("/events", "事件（最新的在前）"),
        ("/apply", "添加节点"),
    ],
)
def test_pages_render_in_chinese_for_a_chinese_browser(client, path, chinese):
    page = client.get(path, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.5")
    assert page.status_code == 200
    content = page.content.decode()
    assert '<html lang="zh-hans">' in content
    assert chinese in content
    assert ">Architecture<" not in content  # the navigation is translated too
    english = client.get(path, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert chinese not in english and '<html lang="en">' in english


@pytest.mark.django_db
def test_the_language_selector_switches_per_user(client):
    page = client.get("/events", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'action="/i18n/setlang/"' in page and 'name="language"' in page
    assert 'value="zh-hans"' in page
    chosen = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/events"})
    assert chosen.status_code == 302 and chosen["Location"] == "/events"
    # The choice beats the browser's Accept-Language from now on.
    assert "事件" in client.get("/events", HTTP_ACCEPT_LANGUAGE="en").content.decode()


# --- the glossary and the event reasons (dashboard.glossary) ---------------------------------------

CONCEPTS = [
    "pod", "node", "service", "ingress", "configmap", "secret", "volume",
    "persistentvolumeclaim", "persistentvolume", "deployment", "replicaset", "statefulset",
    "daemonset", "horizontalpodautoscaler", "kube-apiserver", "etcd", "kube-scheduler",
    "kube-controller-manager", "cloud-controller-manager", "kubelet", "kube-proxy",
    "container-runtime",
]  # fmt: skip
REASONS = [
    "Scheduled", "FailedScheduling", "Pulling", "Pulled", "ErrImagePull", "ImagePullBackOff",
    "BackOff", "Killing", "OOMKilled", "SuccessfulCreate", "ScalingReplicaSet",
    "CreateContainerConfigError",
]  # fmt: skip
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_glossary_defines_every_concept_in_both_languages():
    from dashboard import glossary

    for key in CONCEPTS:
        term = glossary.term(key)
        assert term is not None, key
        with translation.override("en"):
            english = str(term.definition)
        with translation.override("zh-hans"):
            chinese = str(term.definition)
        assert english and not CJK.search(english), key
        assert CJK.search(chinese) and chinese != english, key
    assert glossary.term("scheduler").key == "kube-scheduler"
    assert glossary.term("containerd").key == "container-runtime"


def test_common_event_reasons_are_explained_in_both_languages():
    from dashboard import glossary

    for reason in REASONS:
        with translation.override("en"):
            english = glossary.reason_help(reason)
        with translation.override("zh-hans"):
            chinese = glossary.reason_help(reason)
        assert english and not CJK.search(english), reason
        assert CJK.search(chinese), reason
    assert glossary.reason_help("SomethingElse") == ""


@pytest.mark.django_db
def test_architecture_tooltips_and_event_explanations_on_the_pages(client):
    from cluster import clock
    from cluster.models import Pod
    from cluster.store import events as store_events
    from cluster.store import write
    from cluster.store.bootstrap import ensure_system_objects
    from tests.builders import namespace, node, pod

    clock.invalidate()
    ensure_system_objects()
    write.create(namespace("shop"))
    write.create(node("worker-1"))
    write.create(pod("web-1", "shop"))
    target = Pod.objects.get(namespace="shop", name="web-1")
    store_events.record(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web-1", "namespace": "shop", "uid": str(target.uid)},
        },
        "FailedScheduling",
        "0/1 nodes are available: 1 Insufficient cpu.",
        type="Warning",
        component="default-scheduler",
    )
    zh = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
    architecture = client.get("/?namespace=shop", **zh).content.decode()
    assert 'data-term="kubelet" title="kubelet: 每个节点上的代理' in architecture
    assert 'data-term="kube-scheduler" title="kube-scheduler: 为每个新 Pod 选择节点' in architecture
    assert "<summary>术语表</summary>" in architecture and 'data-term="ingress"' in architecture
    explanation = "目前没有节点能运行这个 Pod"
    assert explanation in client.get("/events?namespace=shop", **zh).content.decode()
    assert explanation in client.get("/objects/pods/shop/web-1", **zh).content.decode()
    english = client.get("/events?namespace=shop").content.decode()
    assert "No node can run the pod now" in english and "FailedScheduling" in english
