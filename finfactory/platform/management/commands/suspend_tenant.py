from finfactory.platform.management.commands._status import TenantStatusCommand
from finfactory.platform.services import tenant_suspend


class Command(TenantStatusCommand):
    help = "Suspend a tenant: its API keys get 403 tenant_suspended at once."
    action = staticmethod(tenant_suspend)
