from tests.integration.store.databases import (  # noqa: F401  (fixtures)
    clock_runtime,
    database_url,
    postgres_template,
    runtime,
    sqlite_template,
)
