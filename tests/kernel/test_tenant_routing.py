import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import get_public_schema_name

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
