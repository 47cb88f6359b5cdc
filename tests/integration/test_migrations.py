"""The migrations build exactly the schema the models describe, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.db import Database
from storage.models import Base


async def test_migrated_schema_matches_models(db: Database) -> None:
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with db.engine.connect() as conn:
        differences = await conn.run_sync(diff)

    assert differences == []


async def test_upgrade_twice_is_a_no_op(db: Database) -> None:
    from storage.migrate import upgrade

    await upgrade(db)


async def test_upgrading_a_database_with_data_keeps_it(database_url: str) -> None:
    from sqlalchemy import text

    from storage.migrate import upgrade

    database = Database(database_url)
    try:
        await upgrade(database, "0001")
        async with database.session() as session:
            await session.execute(
                text(
                    "INSERT INTO users (id, chat_id, first_name, timezone, timezone_set, role,"
                    " status, created_at, last_seen_at) VALUES (1, 1, 'A', 'UTC', false,"
                    " 'user', 'active', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
            await session.execute(
                text(
                    "INSERT INTO posts (id, user_id, status, text, overrides, draft_account_ids,"
                    " created_at, updated_at) VALUES (1, 1, 'draft', 'hi', '{}', '[]',"
                    " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
        await upgrade(database)
        async with database.session() as session:
            row = (await session.execute(text("SELECT text, entities FROM posts"))).one()
        assert row[0] == "hi"
        assert row[1] in ([], "[]")
    finally:
        await database.dispose()
