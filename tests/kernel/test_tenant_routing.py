import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import get_public_schema_name

from finfactory.tenancy.context import in_tenant
from finfactory.tenancy.models import Domain


@pytest.fixture
def tenant_with_domain(make_tenant):
    tenant = make_tenant("acme").tenant
    Domain.objects.create(domain="acme.admin.localhost", tenant=tenant, is_primary=True)
    return tenant


def test_a_tenant_host_is_served_from_the_tenant_schema(client, tenant_with_domain):
    response = client.get("/admin/login/", HTTP_HOST="acme.admin.localhost")

    assert response.status_code == 200
    assert response.wsgi_request.tenant.schema_name == tenant_with_domain.schema_name
    assert getattr(response.wsgi_request, "urlconf", settings.ROOT_URLCONF) == "config.urls_tenant"


def test_an_unknown_host_is_served_from_the_public_schema(client, tenant_with_domain):
    response = client.get("/admin/login/", HTTP_HOST="platform.localhost")

    assert response.status_code == 200
    assert response.wsgi_request.tenant.schema_name == get_public_schema_name()
    assert response.wsgi_request.urlconf == "config.urls_public"


def test_the_tenant_schema_holds_tenant_apps_and_not_shared_only_tables(tenant_with_domain):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            [tenant_with_domain.schema_name],
        )
        tables = {row[0] for row in cursor.fetchall()}

    assert {"auth_user", "auth_group", "django_admin_log", "django_session"} <= tables
    assert "tenancy_tenant" not in tables
    assert "tenancy_domain" not in tables


def _schema() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return cursor.fetchone()[0]


def test_the_search_path_is_set_once_per_tenant_switch_not_per_query(make_tenant):
    alpha, beta = make_tenant("alpha").tenant, make_tenant("beta").tenant
    with CaptureQueriesContext(connection) as queries:
        with in_tenant(alpha):
            assert [_schema(), _schema()] == [alpha.schema_name] * 2
        with in_tenant(beta):
            assert _schema() == beta.schema_name
    statements = [q["sql"] for q in queries.captured_queries]
    assert sum(s.startswith("SET search_path") for s in statements) == 2, statements


def test_a_rolled_back_savepoint_that_set_the_search_path_does_not_leave_a_stale_one(make_tenant):
    alpha, beta = make_tenant("alpha").tenant, make_tenant("beta").tenant
    with in_tenant(alpha):
        assert _schema() == alpha.schema_name
    with in_tenant(beta):
        with pytest.raises(RuntimeError), transaction.atomic():
            assert _schema() == beta.schema_name  # SET issued inside the savepoint…
            raise RuntimeError  # …and undone by its rollback
        assert _schema() == beta.schema_name


def test_a_rolled_back_transaction_that_set_the_search_path_does_not_leave_a_stale_one(committed_tenants):
    alpha, beta = committed_tenants("alpha").tenant, committed_tenants("beta").tenant
    with in_tenant(alpha):
        assert _schema() == alpha.schema_name
    with in_tenant(beta):
        with pytest.raises(RuntimeError), transaction.atomic():
            assert _schema() == beta.schema_name
            raise RuntimeError
        assert _schema() == beta.schema_name
