"""An AtoCore root holding one real snapshot, made by the AtoCore stand-in's own backup CLI.

    PYTHONPATH=fixtures/atocore python3 test/support/rehearsal-snapshot.py ROOT SEED_DIR [SOURCES_PREFIX]

A new root's live database gets the seed's documents, chunks and memories (documents recorded
under SOURCES_PREFIX when given: absolute paths, as an AtoCore that ingested them there records
them), the registry is the seed's; then `python -m atocore.ops.backup create` snapshots it. On
a root that has its database already, only another snapshot is made. The backup CLI runs with
$REHEARSAL_FIXTURE_FAULTS as its stand-in faults (e.g. backup-corrupts-db). Prints the backup
CLI's answer on stdout.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

from atocore.db import connect, init_db


def main() -> int:
    root, seed = Path(sys.argv[1]), Path(sys.argv[2])
    prefix = sys.argv[3] if len(sys.argv) > 3 else ""
    (root / "data" / "db").mkdir(parents=True, exist_ok=True)
    (root / "config").mkdir(parents=True, exist_ok=True)
    (root / "backups" / "snapshots").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(seed / "project-registry.json", root / "config" / "project-registry.json")
    documents = json.loads((seed / "documents.json").read_text(encoding="utf-8"))
    memories = json.loads((seed / "memories.json").read_text(encoding="utf-8"))
    now = datetime.now(timezone.utc).isoformat()
    fresh = not (root / "data" / "db" / "atocore.db").exists()
    with closing(connect(root / "data" / "db" / "atocore.db", 5000)) as db:
        init_db(db, 1)
        for d in documents if fresh else []:
            path = f"{prefix.rstrip('/')}/{d['file_path']}" if prefix else d["file_path"]
            doc_id = "doc-" + hashlib.sha256(path.encode()).hexdigest()[:16]
            body = "\n".join(c["content"] for c in d["chunks"])
            db.execute(
                "INSERT INTO source_documents (id, file_path, file_hash, title, doc_type, tags, ingested_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (doc_id, path, hashlib.sha256(body.encode()).hexdigest(), d["title"], d["doc_type"], json.dumps(d.get("tags", [])), now, now),
            )
            for index, c in enumerate(d["chunks"]):
                db.execute(
                    "INSERT INTO source_chunks (id, document_id, chunk_index, content, heading_path, char_count, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (f"{doc_id}-{index}", doc_id, index, c["content"], c["heading_path"], len(c["content"]), json.dumps({"project": d["project"]}), now),
                )
        for index, m in enumerate(memories if fresh else []):
            db.execute(
                "INSERT INTO memories (id, memory_type, content, project, confidence, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'active', ?, ?)",
                (f"mem-{index}", m["memory_type"], m["content"], m.get("project"), m.get("confidence", 1.0), now, now),
            )
    env = {
        **os.environ,
        "ATOCORE_DATA_DIR": str(root / "data"),
        "ATOCORE_BACKUP_DIR": str(root / "backups"),
        "ATOCORE_PROJECT_REGISTRY_PATH": str(root / "config" / "project-registry.json"),
    }
    env["ATOCORE_STANDIN_FAULTS"] = os.environ.get("REHEARSAL_FIXTURE_FAULTS", "")
    made = subprocess.run([sys.executable, "-m", "atocore.ops.backup", "create"], env=env, capture_output=True, text=True, timeout=60)
    if made.returncode != 0:
        sys.stderr.write(made.stderr)
        return made.returncode
    sys.stdout.write(made.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
