"""Builds a Dalidou-like backup root with the AtoCore stand-in's own backup module.

    PYTHONPATH=fixtures/atocore python3 test/support/snapshot-tree.py PLAN.json

The plan: {"root": DIR, "seed": DIR, "snapshots": [{"stamp", "kind", "chroma", "rows"?}], "foreign": [...],
"rows_per_day", "payload_bytes"}.
Snapshots are made in stamp order by create_snapshot() itself (the online backup API, the
metadata, AtoCore's create-time validation), with the clock frozen at each stamp. A live
database (WAL mode, automatic checkpoints off) gets the day's rows before each snapshot, so
a copy of the main file without its WAL really misses them. Kinds other than "good" damage
a snapshot the way the failure it stands for would. Prints a JSON summary.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import atocore.ops.backup as backup
from atocore.config import load_settings
from atocore.db import connect, init_db

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"


class _Clock:
    """Replaces the backup module's `datetime` so that a snapshot is made "at" its stamp."""

    frozen: datetime = datetime.now(timezone.utc)

    def __getattr__(self, name):
        return getattr(datetime, name)

    def now(self, tz=None):
        return self.frozen if tz is None else self.frozen.astimezone(tz)

    def strptime(self, text, fmt):
        return datetime.strptime(text, fmt)


def settings_for(root: Path, backup_dir: Path, faults: str = ""):
    return load_settings(
        {
            "ATOCORE_DATA_DIR": str(root / "data"),
            "ATOCORE_BACKUP_DIR": str(backup_dir),
            "ATOCORE_PROJECT_REGISTRY_PATH": str(root / "config" / "project-registry.json"),
            "ATOCORE_CHROMA_DIR": str(root / "data" / "chroma"),
            "ATOCORE_STANDIN_FAULTS": faults,
        }
    )


def write_day(conn, when: datetime, stamp: str, rows: int, payload: int) -> None:
    """The day's writes before a snapshot: memories and an interaction, created over the day."""
    for k in range(rows):
        created = (when - timedelta(hours=20) + timedelta(minutes=30 * k)).isoformat()
        conn.execute(
            "INSERT INTO memories (id, memory_type, content, project, confidence, status, created_at, updated_at)"
            " VALUES (?, 'knowledge', ?, 'p04-gigabit', 0.9, 'active', ?, ?)",
            (f"mem-{stamp}-{k}", f"note {k} of {stamp}: " + "x" * payload, created, created),
        )
    conn.execute(
        "INSERT INTO interactions (id, prompt, response, client, session_id, project, created_at)"
        " VALUES (?, ?, ?, 'fixture', ?, 'p04-gigabit', ?)",
        (f"int-{stamp}", f"what changed before {stamp}?", "rows", f"s-{stamp}", (when - timedelta(hours=2)).isoformat()),
    )


def stray_wal(db_file: Path, stamp: str) -> None:
    import sqlite3
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        side = Path(tmp) / "side.db"
        shutil.copyfile(db_file, side)
        conn = sqlite3.connect(side, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL").fetchall()
            conn.execute("PRAGMA wal_autocheckpoint=0").fetchall()
            conn.execute(
                "INSERT INTO memories (id, memory_type, content, project, confidence, status, created_at, updated_at)"
                " VALUES (?, 'knowledge', 'only in the WAL', 'p04-gigabit', 0.9, 'active', ?, ?)",
                (f"mem-{stamp}-wal-only", "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00"),
            )
            # copied while the connection is open: closing would checkpoint and delete it
            shutil.copyfile(str(side) + "-wal", str(db_file) + "-wal")
        finally:
            conn.close()


def main() -> int:
    plan = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    root = Path(plan["root"])
    seed = Path(plan["seed"])
    rows = int(plan.get("rows_per_day", 6))
    payload = int(plan.get("payload_bytes", 200))
    snapshots_dir = root / "backups" / "snapshots"
    (root / "data" / "db").mkdir(parents=True, exist_ok=True)
    (root / "config").mkdir(parents=True, exist_ok=True)
    snapshots_dir.mkdir(parents=True, exist_ok=True)
    registry = root / "config" / "project-registry.json"
    shutil.copyfile(seed / "project-registry.json", registry)
    chroma = root / "data" / "chroma"
    if chroma.exists():
        shutil.rmtree(chroma)
    shutil.copytree(seed / "chroma", chroma)

    clock = _Clock()
    backup.datetime = clock  # type: ignore[assignment]
    settings = settings_for(root, root / "backups")
    made = []
    # the "service": one connection for the whole life, checkpoints only when this script says
    with closing(connect(settings.db_path, 5000)) as live:
        init_db(live, 1)
        live.execute("PRAGMA wal_autocheckpoint = 0")
        for item in sorted(plan["snapshots"], key=lambda s: s["stamp"]):
            stamp, kind, chroma_wanted = item["stamp"], item.get("kind", "good"), bool(item.get("chroma", True))
            when = datetime.strptime(stamp, STAMP_FORMAT).replace(tzinfo=timezone.utc)
            clock.frozen = when
            write_day(live, when, stamp, int(item.get("rows", rows)), payload)
            faults = {"damaged-index": "backup-corrupts-db", "torn-wal": "backup-torn-wal"}.get(kind, "")
            target_settings = settings_for(root, root / "backups", faults)
            saved_registry = registry.read_bytes()
            if kind == "bad-registry":
                # the registry edited in the middle of the backup
                registry.write_text('{"projects": [{"id": "p04-gigabit", ', encoding="utf-8")
            if kind == "missing-chroma":
                # include_chroma asked for, nothing there to copy: AtoCore still says included
                chroma.rename(root / "data" / "chroma-away")
            if kind == "wiped":
                live.execute("DELETE FROM memories")
                live.execute("DELETE FROM interactions")
                live.execute("VACUUM")
            if kind == "relocated":
                # made on another host under another root, then rsynced here
                target_settings = settings_for(root, root.parent / f"{root.name}-otherhost" / "atocore" / "backups")
            try:
                metadata = backup.create_snapshot(target_settings, include_chroma=chroma_wanted)
            finally:
                backup.close_validator_connections()
                registry.write_bytes(saved_registry)
                if kind == "missing-chroma":
                    (root / "data" / "chroma-away").rename(chroma)
            snapshot = snapshots_dir / stamp
            if kind == "relocated":
                shutil.move(metadata["backup_root"], snapshot)
                shutil.rmtree(root.parent / f"{root.name}-otherhost")
            db_file = snapshot / "db" / "atocore.db"
            if kind == "truncated":
                size = db_file.stat().st_size
                with open(db_file, "r+b") as handle:
                    handle.truncate(size // 3)
            elif kind == "zeroed-header":
                with open(db_file, "r+b") as handle:
                    handle.write(bytes(100))
            elif kind == "symlink-outside":
                (snapshot / "chroma").mkdir(exist_ok=True)
                os.symlink("../../../../data/db", snapshot / "chroma" / "live-db")
                os.symlink("/etc/passwd", snapshot / "chroma" / "passwd")
            elif kind == "stray-wal":
                # a -wal with committed frames beside the snapshot's database (a copy taken while
                # a writer still had pages in its WAL): made on a private copy, so the
                # snapshot's own database file stays exactly as the backup wrote it
                stray_wal(db_file, stamp)
            elif kind == "empty-wal":
                (snapshot / "db" / "atocore.db-wal").write_bytes(b"")
                (snapshot / "db" / "atocore.db-shm").write_bytes(bytes(32768))
            elif kind == "huge-chroma":
                # a sparse file: the snapshot claims more bytes than the disk has
                with open(snapshot / "chroma" / "huge.bin", "wb") as handle:
                    handle.truncate(int(item.get("huge_bytes", 1 << 50)))
            # what was in the WAL is in the main file from here on (as after a checkpoint on Dalidou)
            live.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            made.append({"stamp": stamp, "kind": kind, "validated": metadata.get("validated")})
        live.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    for item in plan.get("foreign", []):
        path = snapshots_dir / item["name"]
        if item.get("type") == "file":
            path.write_text("not a snapshot\n", encoding="utf-8")
        else:
            path.mkdir()
            (path / "backup-metadata.json").write_text('{"never": "opened"}\n', encoding="utf-8")
    print(json.dumps({"root": str(root), "snapshots": made}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
