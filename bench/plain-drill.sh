#!/usr/bin/env bash
# The drill's steps as an operator would script them by hand: curl + AtoCore's backup CLI,
# trusting AtoCore's answers (no independent checks). The baseline the embedded drill is
# timed against (bench/drill-vs-shell.sh, bench/drill-seed-size.sh). Runs the stand-in from fixtures/atocore.
# SEED_SIZE adds the generated rows of `drill --seed-size` (needs `npm run build`).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seed=$repo/fixtures/seed
root=$(mktemp -d "${TMPDIR:-/tmp}/plain-drill-XXXXXX")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export PYTHONPATH=$repo/fixtures/atocore ATOCORE_HOST=127.0.0.1 ATOCORE_PORT=$port \
  ATOCORE_DATA_DIR=$root/data ATOCORE_BACKUP_DIR=$root/backups \
  ATOCORE_PROJECT_REGISTRY_PATH=$root/config/project-registry.json
url=http://127.0.0.1:$port
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$root"; }
trap cleanup EXIT
start() { python3 -m atocore 2>>"$root/service.log" & pid=$!; for _ in $(seq 1 300); do curl -fs "$url/health" >/dev/null && return; sleep 0.05; done; echo "not healthy" >&2; exit 3; }
stop() { kill "$pid"; wait "$pid" || true; pid=; }
backup() { python3 -m atocore.ops.backup "$@"; }

mkdir -p "$root/config" "$root/data/chroma"
cp "$seed/project-registry.json" "$root/config/project-registry.json"
cp -r "$seed/chroma/." "$root/data/chroma/"
start
# documents and chunks have no API: straight into the database, as the harness does
python3 - "$seed" "$root/data/db/atocore.db" <<'PY'
import json, sqlite3, sys, uuid, datetime
seed, db = sys.argv[1], sys.argv[2]
now = datetime.datetime.now(datetime.timezone.utc).isoformat()
c = sqlite3.connect(db, timeout=10)
for d in json.load(open(f"{seed}/documents.json")):
    doc = str(uuid.uuid4())
    c.execute("insert into source_documents (id,file_path,file_hash,title,doc_type,tags,ingested_at,updated_at) values (?,?,?,?,?,?,?,?)",
              (doc, d["file_path"], "", d["title"], d["doc_type"], json.dumps(d["tags"]), now, now))
    for i, ch in enumerate(d["chunks"]):
        c.execute("insert into source_chunks (id,document_id,chunk_index,content,heading_path,char_count,metadata,created_at) values (?,?,?,?,?,?,?,?)",
                  (str(uuid.uuid4()), doc, i, ch["content"], ch["heading_path"], len(ch["content"]), json.dumps({"project": d["project"]}), now))
c.commit()
PY
# SEED_SIZE (10MB, 1GB…): the same generated rows as `atocore-drill drill --seed-size`, by the same generator
if [ -n "${SEED_SIZE:-}" ]; then
  node --input-type=module -e "
    import { readFileSync } from 'node:fs';
    import { generateSeedRows, parseSeedSize } from '$repo/lib/atocore/drill/seed-generator.js';
    generateSeedRows('$root/data/db/atocore.db', parseSeedSize('$SEED_SIZE'), JSON.parse(readFileSync('$seed/project-registry.json', 'utf8')).projects);"
fi
python3 -c 'import json,sys; [print(json.dumps(m)) for m in json.load(open(sys.argv[1]))]' "$seed/memories.json" |
  while read -r memory; do curl -fs -X POST -H 'content-type: application/json' -d "$memory" "$url/memory" >/dev/null; done
curl -fs -X POST -H 'content-type: application/json' -d '{"memory_type":"episodic","content":"plain marker A","project":"drill","confidence":1}' "$url/memory" >/dev/null
stamp=$(curl -fs -X POST -H 'content-type: application/json' -d '{"include_chroma":true}' "$url/admin/backup" | python3 -c 'import json,sys; print(json.load(sys.stdin)["backup_root"].rstrip("/").split("/")[-1])')
backup validate "$stamp" | grep '"valid": true' >/dev/null
curl -fs "$url/stats" >/dev/null
curl -fs -X POST -H 'content-type: application/json' -d '{"memory_type":"episodic","content":"plain marker B","project":"drill","confidence":1}' "$url/memory" >/dev/null
stop
if backup restore "$stamp" >/dev/null 2>&1; then echo "restore did not refuse" >&2; exit 1; fi
sleep 1
backup restore "$stamp" --confirm-service-stopped --chroma >/dev/null
start
curl -fs "$url/health" >/dev/null
curl -fs "$url/stats" >/dev/null
curl -fs "$url/projects" >/dev/null
curl -fs "$url/memory?project=drill" | grep "plain marker A" >/dev/null
if curl -fs "$url/memory?project=drill" | grep "plain marker B" >/dev/null; then echo "marker B survived" >&2; exit 1; fi
curl -fs -X POST -H 'content-type: application/json' -d '{"prompt":"slurry pad","project":"p06-polisher"}' "$url/context/build" >/dev/null
stop
echo "plain drill: ok ($stamp)"
