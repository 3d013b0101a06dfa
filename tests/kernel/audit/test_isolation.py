from finfactory.audit.chain import GENESIS_HASH
from finfactory.audit.models import AuditRecord
from finfactory.audit.selectors import audit_records_for_target
from finfactory.audit.services import audit_record
from finfactory.tenancy.context import in_tenant


def test_records_written_in_one_tenant_are_invisible_in_another(make_tenant):
    alpha = make_tenant("alpha").tenant
    beta = make_tenant("beta").tenant
    with in_tenant(alpha):
        written = audit_record(action="customer.blocked", target_type="customer", target_id="cus_1")

    with in_tenant(beta):
        seen_in_beta = list(AuditRecord.objects.filter(public_id=written.public_id))
        by_target_in_beta = audit_records_for_target(target_type="customer", target_id="cus_1").count()
    with in_tenant(alpha):
        seen_in_alpha = list(audit_records_for_target(target_type="customer", target_id="cus_1"))

    assert seen_in_beta == []
    assert by_target_in_beta == 0
    assert seen_in_alpha == [written]
    assert written.tenant == alpha.schema_name
    assert AuditRecord.objects.filter(public_id=written.public_id).count() == 0  # not in public either


def test_each_tenant_has_its_own_chain(make_tenant):
    alpha = make_tenant("alpha").tenant
    beta = make_tenant("beta").tenant
    with in_tenant(beta):
        beta_genesis = AuditRecord.objects.order_by("id").first()
        beta_head = AuditRecord.objects.order_by("id").last()
    with in_tenant(alpha):
        audit_record(action="customer.blocked", target_type="customer", target_id="cus_1")
    with in_tenant(beta):
        beta_next = audit_record(action="customer.blocked", target_type="customer", target_id="cus_1")

    assert beta_genesis.prev_hash == GENESIS_HASH
    assert beta_next.prev_hash == beta_head.hash  # alpha's append did not touch beta's chain
    assert beta_next.tenant == beta.schema_name
