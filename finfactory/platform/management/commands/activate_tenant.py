from finfactory.platform.management.commands._status import TenantStatusCommand
from finfactory.platform.services import tenant_activate


class Command(TenantStatusCommand):
    help = "Re-activate a suspended tenant."
    action = staticmethod(tenant_activate)
