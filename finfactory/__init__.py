"""FinFactory platform kernel: tenancy, API conventions, outbox, audit, money, observability.

The kernel holds no business rule of any context and imports no context (importlinter.ini).
"""
