"""Platform operations: provisioning and lifecycle of tenants, and the operators' surfaces for
them (the `/platform/v1` API and manage.py commands). Sits above tenancy and apikeys."""
