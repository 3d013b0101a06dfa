"""Back-office staff of a tenant: roles (Viewer, Operator, Approver) and maker-checker approvals."""
