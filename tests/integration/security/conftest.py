from tests.integration.store.databases import (  # noqa: F401  (fixtures)
    database_url,
    postgres_template,
    sqlite_template,
)
