"""API conventions shared by every HTTP endpoint: problem+json errors, ids, pagination, schema."""
