"""Who may do what: the role table, users' bindings, the anonymous setting, tokens."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, User

from cluster import access
from cluster.models import ApiToken, ConfigMap, Role, RoleBinding

VIEWER, EDITOR, ADMIN = Role.VIEWER, Role.EDITOR, Role.ADMIN

pytestmark = pytest.mark.usefixtures("access_enforced")


@pytest.mark.parametrize(
    "role, verb, resource, group, allowed",
    [
        pytest.param(VIEWER, "list", "pods", "", True, id="viewer lists pods"),
        pytest.param(VIEWER, "watch", "deployments", "apps", True, id="viewer watches"),
        pytest.param(VIEWER, "get", "pods/log", "", True, id="viewer reads logs"),
        pytest.param(VIEWER, "get", "nodes", "", True, id="viewer reads nodes"),
        pytest.param(VIEWER, "create", "pods", "", False, id="viewer cannot create"),
        pytest.param(VIEWER, "delete", "pods", "", False, id="viewer cannot delete"),
        pytest.param(VIEWER, "patch", "deployments/scale", "apps", False, id="viewer cannot scale"),
        pytest.param(VIEWER, "create", "pods/eviction", "", False, id="viewer cannot evict"),
        pytest.param(VIEWER, "get", "secrets", "", False, id="viewer cannot read secrets"),
        pytest.param(VIEWER, "list", "secrets", "", False, id="viewer cannot list secrets"),
        pytest.param(VIEWER, "list", "rolebindings", "", False, id="viewer cannot see access"),
        pytest.param(EDITOR, "get", "secrets", "", True, id="editor reads secrets"),
        pytest.param(EDITOR, "create", "secrets", "", True, id="editor writes secrets"),
        pytest.param(EDITOR, "create", "deployments", "apps", True, id="editor creates"),
        pytest.param(EDITOR, "update", "deployments", "", True, id="group may be left out"),
        pytest.param(EDITOR, "patch", "deployments/scale", "apps", True, id="editor scales"),
        pytest.param(EDITOR, "create", "pods/eviction", "", True, id="editor evicts"),
        pytest.param(EDITOR, "deletecollection", "configmaps", "", True, id="editor bulk deletes"),
        pytest.param(EDITOR, "delete", "ingresses", "networking.k8s.io", True, id="editor ingress"),
        pytest.param(EDITOR, "list", "nodes", "", True, id="editor reads nodes"),
        pytest.param(EDITOR, "patch", "nodes", "", False, id="editor cannot cordon"),
        pytest.param(EDITOR, "create", "namespaces", "", False, id="editor cannot add namespaces"),
        pytest.param(EDITOR, "update", "namespaces/finalize", "", False, id="nor finalize one"),
        pytest.param(EDITOR, "create", "persistentvolumes", "", False, id="editor cannot add PVs"),
        pytest.param(
            EDITOR, "delete", "storageclasses", "storage.k8s.io", False, id="nor storage classes"
        ),
        pytest.param(EDITOR, "create", "rolebindings", "", False, id="editor cannot grant"),
        pytest.param(EDITOR, "get", "apitokens", "", False, id="editor cannot see tokens"),
        pytest.param(EDITOR, "create", "widgets", "", False, id="unknown resource: admins only"),
        pytest.param(ADMIN, "delete", "nodes", "", True, id="admin deletes nodes"),
        pytest.param(ADMIN, "create", "rolebindings", "", True, id="admin grants"),
        pytest.param(ADMIN, "get", "secrets", "", True, id="admin reads secrets"),
        pytest.param(ADMIN, "escalate", "pods", "", False, id="unknown verb: nobody"),
        pytest.param("owner", "get", "pods", "", False, id="unknown role: nothing"),
    ],
)
def test_role_table(role, verb, resource, group, allowed):
    """Each role grants exactly the verbs of Kubernetes' view, edit and cluster-admin roles."""
    assert access.role_allows(role, verb, resource, group) is allowed


def user_with(*grants: tuple[str, str], name: str = "alice") -> User:
    user = User.objects.create_user(name, password="pw-not-used")
    for role, namespace in grants:
        RoleBinding.objects.create(user=user, role=role, namespace=namespace)
    return User.objects.get(pk=user.pk)  # a fresh object, as a request would have


@pytest.mark.django_db
def test_namespaced_binding_applies_only_in_its_namespace():
    """A role bound in one namespace grants nothing elsewhere, at cluster scope or across all
    namespaces."""
    user = user_with((EDITOR, "team-a"))
    assert access.allows(user, "create", "deployments", "team-a", "apps")
    assert access.allows(user, "list", "pods", "team-a")
    assert not access.allows(user, "list", "pods", "team-b")
    assert not access.allows(user, "list", "pods", None)
    assert not access.allows(user, "get", "nodes", None)


@pytest.mark.django_db
def test_bindings_add_up():
    """A cluster-wide viewer who edits one namespace reads everywhere and writes only there."""
    user = user_with((VIEWER, ""), (EDITOR, "team-a"))
    assert access.allows(user, "list", "pods", None)
    assert access.allows(user, "get", "nodes", None)
    assert access.allows(user, "delete", "pods", "team-a")
    assert not access.allows(user, "delete", "pods", "team-b")
    assert access.may_read_secret_data(user, "team-a")
    assert not access.may_read_secret_data(user, "team-b")


@pytest.mark.django_db
def test_user_without_bindings_may_do_nothing():
    user = user_with()
    assert not access.allows(user, "get", "pods", "default")
    assert not access.may_read_secret_data(user, "default")


@pytest.mark.django_db
def test_superuser_is_admin_everywhere():
    root = User.objects.create_superuser("root", password="pw-not-used")
    assert access.allows(root, "delete", "nodes", None)
    assert access.allows(root, "create", "rolebindings", None)
    assert access.may_read_secret_data(root, "kube-system")


@pytest.mark.django_db
def test_inactive_user_may_do_nothing():
    user = user_with((ADMIN, ""))
    user.is_active = False
    assert not access.allows(user, "get", "pods", "default")


@pytest.mark.parametrize("verb", sorted(access.VERBS))
def test_anonymous_may_do_nothing_by_default(settings, verb):
    settings.KUBARIUM_ANONYMOUS_READ = False
    settings.KUBARIUM_AUTHORIZATION_MODE = access.RBAC
    assert not access.allows(AnonymousUser(), verb, "pods", "default")


@pytest.mark.parametrize(
    "verb, resource, namespace, allowed",
    [
        pytest.param("list", "pods", None, True, id="lists in all namespaces"),
        pytest.param("watch", "deployments", "default", True, id="watches"),
        pytest.param("get", "pods/log", "default", True, id="reads logs"),
        pytest.param("get", "secrets", "default", False, id="never secrets"),
        pytest.param("create", "pods", "default", False, id="never writes"),
        pytest.param("patch", "nodes", None, False, id="never cordons"),
    ],
)
def test_anonymous_read_setting(settings, verb, resource, namespace, allowed):
    """With ``KUBARIUM_ANONYMOUS_READ`` on, anonymous people are viewers: reads, no Secrets."""
    settings.KUBARIUM_ANONYMOUS_READ = True
    settings.KUBARIUM_AUTHORIZATION_MODE = access.RBAC
    assert access.allows(AnonymousUser(), verb, resource, namespace) is allowed
    assert not access.may_read_secret_data(AnonymousUser(), namespace)


def test_always_allow_lets_everyone_do_everything(settings):
    settings.KUBARIUM_ANONYMOUS_READ = False
    settings.KUBARIUM_AUTHORIZATION_MODE = access.ALWAYS_ALLOW
    assert access.allows(AnonymousUser(), "delete", "nodes", None)
    assert access.may_read_secret_data(AnonymousUser(), "default")


@pytest.mark.django_db
def test_token_is_stored_hashed_and_resolves_to_its_user():
    user = user_with()
    row, token = access.token_create(user, name="laptop")
    assert token.startswith(access.TOKEN_PREFIX) and len(token) > 40
    stored = ApiToken.objects.get(pk=row.pk)
    assert token not in (stored.digest, stored.prefix, stored.name)
    assert stored.digest == access.token_digest(token)
    assert token.startswith(stored.prefix)
    assert access.token_user(token) == user
    assert ApiToken.objects.get(pk=row.pk).last_used_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["", "kubarium-wrong", "Bearer x"])
def test_unknown_token_resolves_to_nobody(token):
    access.token_create(user_with())
    assert access.token_user(token) is None


@pytest.mark.django_db
def test_token_of_an_inactive_user_resolves_to_nobody():
    user = user_with()
    _, token = access.token_create(user)
    user.is_active = False
    user.save()
    assert access.token_user(token) is None


# --- Django admin: tokens, bindings, and roles on the cluster's objects -------------------------


@pytest.mark.django_db
def test_admin_shows_a_new_token_once_and_stores_its_digest(admin_client, admin_user):
    """Adding a token in the admin shows it in the message; the token then works for the API
    and is never shown again."""
    response = admin_client.post(
        "/admin/cluster/apitoken/add/", {"user": admin_user.pk, "name": "laptop"}, follow=True
    )
    assert response.status_code == 200
    [message] = [str(m) for m in response.context["messages"] if "<code>" in str(m)]
    token = message.split("<code>")[1].split("</code>")[0]
    assert access.token_user(token) == admin_user
    row = ApiToken.objects.get(name="laptop")
    assert row.digest == access.token_digest(token)
    page = admin_client.get(f"/admin/cluster/apitoken/{row.pk}/change/").content.decode()
    assert token not in page and row.prefix in page


@pytest.mark.django_db
def test_admin_grants_a_role(admin_client):
    user = User.objects.create_user("vera", password="pw-not-used")
    response = admin_client.post(
        "/admin/cluster/rolebinding/add/",
        {"user": user.pk, "role": "viewer", "namespace": "team-a"},
    )
    assert response.status_code == 302
    assert access.allows(User.objects.get(pk=user.pk), "list", "pods", "team-a")


def staff(django_user_model, *grants: tuple[str, str]):
    """A staff user with every model permission of the cluster app, limited by ``grants``."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("sam", password="pw-not-used", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="cluster"))
    for role, where in grants:
        RoleBinding.objects.create(user=user, role=role, namespace=where)
    return user


@pytest.mark.django_db
def test_admin_follows_roles_on_cluster_objects(client, django_user_model):
    """Django's model permissions are not enough: a viewer may look, not change; only the
    namespaces of their bindings are listed; Secrets and access tables stay closed."""
    from cluster.store import write
    from tests.builders import configmap, namespace

    write.create(namespace("team-a"))
    write.create(configmap("mine", namespace="team-a", mode="a"))
    write.create(configmap("theirs", mode="b"))
    client.force_login(staff(django_user_model, (VIEWER, "team-a")))

    listing = client.get("/admin/cluster/configmap/").content.decode()
    assert "mine" in listing and "theirs" not in listing
    row = ConfigMap.objects.get(name="mine")
    assert client.get(f"/admin/cluster/configmap/{row.pk}/change/").status_code == 200
    assert (
        client.post(f"/admin/cluster/configmap/{row.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert client.get("/admin/cluster/configmap/add/").status_code == 403
    assert client.get("/admin/cluster/secret/").status_code == 403
    assert client.get("/admin/cluster/apitoken/").status_code == 403
    assert client.get("/admin/cluster/rolebinding/").status_code == 403


@pytest.mark.django_db
def test_admin_refuses_a_binding_to_a_bad_namespace_name(admin_client):
    user = User.objects.create_user("vera", password="pw-not-used")
    response = admin_client.post(
        "/admin/cluster/rolebinding/add/",
        {"user": user.pk, "role": "viewer", "namespace": "Team_A"},
    )
    assert response.status_code == 200
    assert "a lowercase RFC 1123 label" in str(response.context["adminform"].errors["namespace"])
    assert not RoleBinding.objects.exists()
