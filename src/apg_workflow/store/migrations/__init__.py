"""Alembic migrations of the store, shipped in the package (``apg-workflow db upgrade``)."""
