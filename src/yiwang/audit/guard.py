"""Database triggers that make the audit tables insert-only.

The only update allowed is the sealer setting `block_id` once on an event. A
person with DBA rights can still drop the triggers; `verify_audit` then
detects what they changed.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

EVENT_COLUMNS = (
    "id",
    "created_at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_label",
    "department_id",
    "before",
    "after",
    "ip",
    "event_hash",
)
_SQLITE_CHANGED = " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in EVENT_COLUMNS)
_PG_ROW_NEW = ", ".join(f'NEW."{c}"' for c in EVENT_COLUMNS)
_PG_ROW_OLD = ", ".join(f'OLD."{c}"' for c in EVENT_COLUMNS)

SQLITE_INSTALL = [
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_auditevent
       WHEN OLD.block_id IS NOT NULL OR {_SQLITE_CHANGED}
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_block_no_delete BEFORE DELETE ON audit_auditblock
       BEGIN SELECT RAISE(ABORT, 'audit blocks are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_block_no_update BEFORE UPDATE ON audit_auditblock
       BEGIN SELECT RAISE(ABORT, 'audit blocks are append-only'); END""",
]
SQLITE_REMOVE = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "audit_event_no_delete",
        "audit_event_no_update",
        "audit_block_no_delete",
        "audit_block_no_update",
    )
]
PG_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit rows are append-only'
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      IF TG_TABLE_NAME = 'audit_auditblock' THEN
        RAISE EXCEPTION 'audit blocks are append-only'
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      IF OLD.block_id IS NOT NULL OR ROW({_PG_ROW_NEW}) IS DISTINCT FROM ROW({_PG_ROW_OLD}) THEN
        RAISE EXCEPTION 'audit events are append-only'
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
       FOR EACH ROW EXECUTE FUNCTION audit_append_only()""",
    """CREATE TRIGGER audit_block_append_only BEFORE UPDATE OR DELETE ON audit_auditblock
       FOR EACH ROW EXECUTE FUNCTION audit_append_only()""",
]
PG_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_block_append_only ON audit_auditblock",
]


def _run(connection: BaseDatabaseWrapper, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def install(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor == "sqlite":
        _run(connection, SQLITE_INSTALL)
    elif connection.vendor == "postgresql":
        _run(connection, PG_REMOVE + PG_INSTALL)


def remove(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor == "sqlite":
        _run(connection, SQLITE_REMOVE)
    elif connection.vendor == "postgresql":
        _run(connection, PG_REMOVE)
