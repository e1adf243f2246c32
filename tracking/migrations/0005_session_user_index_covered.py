# Session.user loses its own index: the unique (user, client_token) and the
# (user, performed_at) indexes both lead with the user.
#
# Written by hand. Django's AlterField for db_index drops and re-adds the foreign key on
# PostgreSQL (ACCESS EXCLUSIVE on tracking_session and auth_user while every row is
# checked again) and copies the whole table on SQLite. Only the index goes: CONCURRENTLY
# on PostgreSQL, so sessions are logged and read while it is dropped.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

INDEX = "tracking_session_user_id_4a4ab780"


def drop_index(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f'DROP INDEX {concurrently}IF EXISTS "{INDEX}"')


def create_index(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f'CREATE INDEX {concurrently}IF NOT EXISTS "{INDEX}" ON "tracking_session" ("user_id")'
    )


class Migration(migrations.Migration):
    # DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("tracking", "0004_pegscore"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="session",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="stretch_sessions",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_index, create_index)],
        ),
    ]
