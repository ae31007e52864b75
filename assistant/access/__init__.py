"""People and permissions: accounts, roles, grants per knowledge base, API tokens, the
throttle on failed logins and the append-only audit log (``<data>/accounts.sqlite3``, or
the ``accounts`` schema of a PostgreSQL database)."""
