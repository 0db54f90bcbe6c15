"""Administration of the migration: bearer tokens with scopes, the JSON API under
`/admin/api`, its page, and the audit log of every admin action."""
