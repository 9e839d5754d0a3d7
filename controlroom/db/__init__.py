"""PostgreSQL access: connections, migrations, the batch writer, history and the audit.

Every plant lives in its own schema, named after the plant, so plants and tests share one
database server without seeing each other.
"""

from controlroom.db.connection import connect, ensure_database
from controlroom.db.migrations import migrate

__all__ = ["connect", "ensure_database", "migrate"]
