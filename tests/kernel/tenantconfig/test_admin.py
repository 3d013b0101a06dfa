import json

import pytest
from django.contrib.auth import get_user_model

from finfactory.audit.models import AuditRecord
from finfactory.tenancy.context import in_public_schema
from finfactory.tenancy.models import Domain
from finfactory.tenantconfig import config_get, config_set
from finfactory.tenantconfig.models import ConfigValue

from .conftest import CASH_OUT, MAX_TRANSFERS, MODE, config_audit, stored

CHANGELIST = "/admin/tenantconfig/configvalue/"
ADD = CHANGELIST + "add/"


@pytest.fixture
def host(tenant):
    domain = f"{tenant.schema_name.replace('_', '-')}.admin.localhost"
    Domain.objects.create(domain=domain, tenant=tenant, is_primary=True)
    return domain


@pytest.fixture
def login(host, client, staff):
    """login(role) -> the test client logged in to the tenant's admin as `staff-<role>`."""

    def as_staff(role: str):
        client.force_login(staff(f"staff-{role}", role))
        return client

    return as_staff


def _page(client, host: str, path: str) -> str:
    response = client.get(path, HTTP_HOST=host)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def _errors(response) -> dict:
    assert response.status_code == 200, response.status_code  # the form again, not a redirect or a 500
    return {field: list(errors) for field, errors in response.context["adminform"].form.errors.items()}


def test_an_operator_sets_a_tenant_value_with_a_reason_and_it_is_audited(keys, login, host):
    client = login("Operator")

    response = client.post(ADD, {"key": MAX_TRANSFERS, "value": "25", "reason": "busy season"}, HTTP_HOST=host)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert stored() == {MAX_TRANSFERS: (25, 1)}
    assert config_audit() == [
        ("config.value_set", MAX_TRANSFERS, None, {"value": 25, "version": 1}, "busy season", "user:staff-Operator")
    ]
    assert config_get(MAX_TRANSFERS) == 25


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"key": MODE, "value": "maintenance"},
         {"value": ['Not valid JSON (a string is written in double quotes: "like this").']}),
        ({"key": MODE, "value": "NaN"},
         {"value": ['Not valid JSON (a string is written in double quotes: "like this").']}),
        ({"key": MAX_TRANSFERS, "value": "101"}, {"value": ["Must be at most 100."]}),
        ({"key": CASH_OUT, "value": '"yes"'}, {"value": ["Must be true or false."]}),
        ({"key": MAX_TRANSFERS, "value": "5", "reason": " "}, {"reason": ["This field is required."]}),
        ({"key": "testcfg.nope", "value": "5", "reason": "r"},
         {"key": ["Select a valid choice. testcfg.nope is not one of the available choices."]}),
    ],
)  # fmt: skip
def test_bad_input_is_shown_on_the_form_and_nothing_is_written(keys, login, host, data, errors):
    client = login("Operator")

    response = client.post(ADD, {"reason": "a reason", **data}, HTTP_HOST=host)

    assert _errors(response) == errors
    assert (stored(), config_audit()) == ({}, [])


def test_changing_a_value_shows_it_as_json_and_asks_for_a_new_reason(keys, login, host):
    config_set(key=MODE, value="maintenance", reason="migration")
    pk = ConfigValue.objects.get(key=MODE).pk
    client = login("Operator")

    form = _page(client, host, f"{CHANGELIST}{pk}/change/")
    bad = client.post(f"{CHANGELIST}{pk}/change/", {"value": '"live"'}, HTTP_HOST=host)
    saved = client.post(f"{CHANGELIST}{pk}/change/", {"value": '"live"', "reason": "migration done"}, HTTP_HOST=host)

    assert "&quot;maintenance&quot;</textarea>" in form
    assert "Operating mode" in form and "version 1" in form and "migration" in form
    assert _errors(bad) == {"reason": ["This field is required."]}
    assert saved.status_code == 302
    assert stored() == {MODE: ("live", 2)}
    assert config_audit()[-1][:5] == (
        "config.value_set", MODE, {"value": "maintenance", "version": 1}, {"value": "live", "version": 2},
        "migration done",
    )  # fmt: skip


def test_the_list_shows_the_description_default_and_global_value(keys, login, host):
    config_set(key=MAX_TRANSFERS, value=40, reason="global", scope="global")
    config_set(key=MAX_TRANSFERS, value=60, reason="tenant")
    config_set(key=CASH_OUT, value=False, reason="pause")
    client = login("Viewer")

    listing = _page(client, host, CHANGELIST)

    assert "Transfers per day and customer" in listing and "Customers may cash out" in listing
    row = listing[listing.index(MAX_TRANSFERS) :]
    row = row[: row.index("</tr>")]
    assert ">60<" in row and ">10<" in row and ">40<" in row
    assert "(not set)" in listing  # cash_out has no global value


def test_unset_asks_for_a_reason_then_removes_the_tenant_value(keys, login, host):
    config_set(key=CASH_OUT, value=False, reason="pause")
    pk = str(ConfigValue.objects.get(key=CASH_OUT).pk)
    client = login("Operator")
    action = {"action": "unset_selected", "_selected_action": [pk]}

    asking = client.post(CHANGELIST, action, HTTP_HOST=host)
    without_reason = client.post(CHANGELIST, {**action, "apply": "1", "reason": ""}, HTTP_HOST=host)
    assert stored() == {CASH_OUT: (False, 1)}
    done = client.post(CHANGELIST, {**action, "apply": "1", "reason": "resume"}, HTTP_HOST=host)

    assert asking.status_code == 200 and 'name="reason"' in asking.content.decode()
    assert "A reason is required." in without_reason.content.decode()
    assert done.status_code == 302
    assert stored() == {}
    assert config_audit()[-1] == (
        "config.value_unset", CASH_OUT, {"value": False, "version": 1}, None, "resume", "user:staff-Operator"
    )  # fmt: skip


def test_a_viewer_sees_values_but_cannot_change_add_or_unset_them(keys, login, host):
    config_set(key=CASH_OUT, value=False, reason="pause")
    pk = ConfigValue.objects.get(key=CASH_OUT).pk
    client = login("Viewer")

    detail = _page(client, host, f"{CHANGELIST}{pk}/change/")
    changed = client.post(f"{CHANGELIST}{pk}/change/", {"value": "true", "reason": "r"}, HTTP_HOST=host)
    added = client.post(ADD, {"key": MODE, "value": '"live"', "reason": "r"}, HTTP_HOST=host)
    unset = client.post(
        CHANGELIST, {"action": "unset_selected", "_selected_action": [pk], "apply": "1", "reason": "r"}, HTTP_HOST=host
    )

    assert "<textarea" not in detail and "Customers may cash out" in detail
    assert (changed.status_code, added.status_code) == (403, 403)
    assert unset.status_code == 200  # the action is not offered: the list again
    assert stored() == {CASH_OUT: (False, 1)}
    assert len(config_audit()) == 1


def test_nobody_deletes_a_value_without_a_reason(keys, login, host):
    config_set(key=CASH_OUT, value=False, reason="pause")
    pk = ConfigValue.objects.get(key=CASH_OUT).pk
    client = login("Approver")

    response = client.post(f"{CHANGELIST}{pk}/delete/", {"post": "yes"}, HTTP_HOST=host)

    assert response.status_code == 403
    assert stored() == {CASH_OUT: (False, 1)}


def test_the_platform_admin_edits_global_values(keys, client, db):
    operator = get_user_model().objects.create_superuser(username="root", email="root@ff.test", password=None)
    client.force_login(operator)

    response = client.post(
        ADD, {"key": CASH_OUT, "value": "false", "reason": "incident 42"}, HTTP_HOST="platform.localhost"
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    with in_public_schema():
        assert stored() == {CASH_OUT: (False, 1)}
        assert config_audit() == [
            ("config.value_set", CASH_OUT, None, {"value": False, "version": 1}, "incident 42", "user:root")
        ]
    assert AuditRecord.objects.filter(action="config.value_set").values_list("tenant", flat=True).get() == "public"
    assert json.loads("false") is config_get(CASH_OUT) is False
