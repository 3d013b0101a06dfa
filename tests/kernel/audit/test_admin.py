from django.contrib import admin
from django.contrib.auth.models import User
from django.test import RequestFactory

from finfactory.audit.admin import AuditRecordAdmin
from finfactory.audit.models import AuditRecord
from finfactory.audit.services import audit_record


def test_the_audit_admin_is_read_only_for_everyone_including_superusers(db):
    record = audit_record(action="tenant.created", target_type="tenant", target_id="acme")
    request = RequestFactory().get("/admin/audit/auditrecord/")
    request.user = User(username="root", is_superuser=True, is_staff=True, is_active=True)
    model_admin = AuditRecordAdmin(AuditRecord, admin.site)

    assert model_admin.has_view_permission(request, record)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, record)
    assert not model_admin.has_delete_permission(request, record)
    assert set(model_admin.get_readonly_fields(request, record)) == {f.name for f in AuditRecord._meta.fields}
    assert "delete_selected" not in model_admin.get_actions(request)
