import { createRequire as __atocoreDrillCreateRequire } from 'node:module';
import { fileURLToPath as __atocoreDrillFileURLToPath } from 'node:url';
import { dirname as __atocoreDrillDirname } from 'node:path';
const require = __atocoreDrillCreateRequire(import.meta.url);
const __filename = __atocoreDrillFileURLToPath(import.meta.url);
const __dirname = __atocoreDrillDirname(__filename);
import {
  check,
  openDatabase
} from "./chunk-I7NQJPZR.mjs";
import {
  NotRegularFileError,
  cloneRegularFile,
  isScratchSqliteError,
  scratchError
} from "./chunk-WXOIO7VX.mjs";
import {
  formatDuration
} from "./chunk-GIZ3PXLO.mjs";
import {
  DrillError,
  InfrastructureError,
  errorMessage
} from "./chunk-NLENNPWZ.mjs";

// src/validation/database.ts
import { open } from "node:fs/promises";

// src/sqlite/inspect.ts
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
var MMAP_BYTES = 4 * 1024 * 1024 * 1024;
function integrityCheck(db) {
  try {
    const rows = db.prepare("PRAGMA integrity_check(50)").pluck().all();
    const ok = rows.length === 1 && rows[0] === "ok";
    return { ok, messages: rows };
  } catch (error) {
    return { ok: false, messages: [`integrity_check raised: ${errorMessage(error)}`] };
  }
}
function foreignKeyCheck(db) {
  const rows = db.prepare("PRAGMA foreign_key_check").all();
  return { ok: rows.length === 0, violations: rows.slice(0, 50) };
}
function schemaOf(db) {
  return db.prepare(`SELECT type, name, tbl_name AS "table", sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`).all();
}
function quoteIdent(name) {
  return `"${name.replace(/"/g, '""')}"`;
}
function fingerprintOf(db, restrictTo) {
  const schema = schemaOf(db);
  const tables = {};
  const columns = {};
  const content = createHash("sha256");
  const withoutRowid = new Set(
    db.prepare("SELECT name FROM pragma_table_list WHERE wr = 1").pluck().all()
  );
  for (const object of schema) {
    if (object.type !== "table" || (object.sql ?? "").toUpperCase().startsWith("CREATE VIRTUAL")) continue;
    const present = db.prepare("SELECT name FROM pragma_table_info(?)").pluck().all(object.name);
    const wanted = restrictTo ? restrictTo.columns[object.name]?.filter((c) => present.includes(c)) : present;
    if (!wanted) continue;
    columns[object.name] = wanted;
    const order = withoutRowid.has(object.name) ? "" : " ORDER BY rowid";
    const hash = createHash("sha256");
    let rows = 0;
    const select = wanted.length > 0 ? wanted.map(quoteIdent).join(", ") : "*";
    for (const row of db.prepare(`SELECT ${select} FROM ${quoteIdent(object.name)}${order}`).raw().iterate()) {
      hash.update(JSON.stringify(row, (_key, value) => Buffer.isBuffer(value) ? `x'${value.toString("hex")}'` : typeof value === "bigint" ? value.toString() : value));
      hash.update("\n");
      rows++;
    }
    const sha256 = hash.digest("hex");
    tables[object.name] = { rows, sha256 };
    content.update(`${object.name}:${rows}:${sha256}
`);
  }
  const schemaSha256 = createHash("sha256").update(JSON.stringify(schema)).digest("hex");
  return { tables, columns, schema, schemaSha256, contentSha256: content.digest("hex") };
}
function inspectOpenDatabase(db, path) {
  let integrity = { ok: false, messages: ["not checked"] };
  let foreignKeys = { ok: false, violations: [] };
  let fingerprint = null;
  try {
    integrity = integrityCheck(db);
    foreignKeys = foreignKeyCheck(db);
    fingerprint = fingerprintOf(db);
    return { path, ok: integrity.ok && foreignKeys.ok, integrity, foreignKeys, fingerprint, error: null };
  } catch (error) {
    return { path, ok: false, integrity, foreignKeys, fingerprint, error: errorMessage(error) };
  }
}
function openReadOnly(path) {
  const db = openDatabase(path, { readonly: true });
  db.pragma(`mmap_size = ${MMAP_BYTES}`);
  return db;
}
async function withDatabaseCopy(path, use, scratchDir = tmpdir(), bounds = {}) {
  let dir;
  try {
    dir = await mkdtemp(join(scratchDir, "atocore-drill-sqlite-"));
  } catch (error) {
    throw scratchError(join(scratchDir, "atocore-drill-sqlite-*"), "creating", error);
  }
  try {
    const copy = join(dir, "inspected.db");
    await cloneRegularFile(path, copy, bounds);
    try {
      await cloneRegularFile(`${path}-wal`, `${copy}-wal`, bounds);
    } catch (error) {
      if (!(error instanceof NotRegularFileError)) throw error;
    }
    let db;
    try {
      db = openReadOnly(copy);
    } catch (error) {
      if (isScratchSqliteError(error)) throw scratchError(copy, "opening", error);
      throw error;
    }
    try {
      try {
        db.prepare("SELECT count(*) FROM sqlite_schema").pluck().get();
      } catch (error) {
        if (isScratchSqliteError(error)) throw scratchError(copy, "opening", error);
      }
      return use(db);
    } finally {
      db.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
function withLiveDatabase(path, use) {
  const db = openReadOnly(path);
  try {
    return use(db);
  } finally {
    db.close();
  }
}
async function inspectDatabaseFile(path, probe, scratchDir, bounds = {}) {
  try {
    return await withDatabaseCopy(
      path,
      (db) => {
        const inspection = inspectOpenDatabase(db, path);
        probe?.(db);
        return inspection;
      },
      scratchDir,
      bounds
    );
  } catch (error) {
    if (error instanceof DrillError) throw error;
    return {
      path,
      ok: false,
      integrity: { ok: false, messages: [`could not open: ${errorMessage(error)}`] },
      foreignKeys: { ok: false, violations: [] },
      fingerprint: null,
      error: errorMessage(error)
    };
  }
}
function memoriesWithContent(db, content) {
  try {
    return db.prepare("SELECT id FROM memories WHERE content = ?").pluck().all(content);
  } catch {
    return [];
  }
}
function fingerprintDifferences(expected, actual) {
  const names = /* @__PURE__ */ new Set([...Object.keys(expected.tables), ...Object.keys(actual.tables)]);
  const differences = [];
  for (const name of [...names].sort()) {
    const a = expected.tables[name];
    const b = actual.tables[name];
    if (!a || !b || a.rows !== b.rows || a.sha256 !== b.sha256) {
      differences.push({ table: name, expected_rows: a?.rows ?? null, actual_rows: b?.rows ?? null, content_equal: a?.sha256 === b?.sha256 });
    }
  }
  if (expected.schemaSha256 !== actual.schemaSha256) differences.push({ schema: "differs" });
  return differences;
}

// src/validation/database.ts
var CREATION_COLUMNS = ["created_at", "ingested_at"];
function rowIndexOf(db) {
  const index = /* @__PURE__ */ new Map();
  const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
  for (const table of tables) {
    const columns = db.prepare("SELECT name FROM pragma_table_info(?)").pluck().all(table);
    const created = CREATION_COLUMNS.find((c) => columns.includes(c));
    if (!columns.includes("id") || !created) continue;
    const ids = [];
    const times = [];
    for (const row of db.prepare(`SELECT id, ${quoteIdent(created)} FROM ${quoteIdent(table)}`).raw().iterate()) {
      const time = typeof row[1] === "string" ? Date.parse(row[1]) : Number.NaN;
      if (row[0] === null || row[0] === void 0 || Number.isNaN(time)) continue;
      ids.push(String(row[0]));
      times.push(time);
    }
    index.set(table, { ids: JSON.stringify(ids), created: Float64Array.from(times) });
  }
  return index;
}
function expandRowIndex(index) {
  const expanded = /* @__PURE__ */ new Map();
  for (const [table, rows] of index) {
    if (rows instanceof Map) {
      expanded.set(table, rows);
      continue;
    }
    const { ids, created } = rows;
    const byId = /* @__PURE__ */ new Map();
    JSON.parse(ids).forEach((id, i) => byId.set(id, created[i]));
    expanded.set(table, byId);
  }
  return expanded;
}
function inspectOpen(db, withRows) {
  const integrity = integrityCheck(db);
  let foreignKeys = { ok: false, violations: [] };
  try {
    foreignKeys = foreignKeyCheck(db);
  } catch (error) {
    return { integrity, foreignKeys, error: `foreign_key_check raised: ${errorMessage(error)}`, rows: null };
  }
  let rows = null;
  try {
    rows = integrity.ok && withRows ? rowIndexOf(db) : null;
  } catch (error) {
    return { integrity, foreignKeys, error: `reading rows raised: ${errorMessage(error)}`, rows: null };
  }
  return { integrity, foreignKeys, error: null, rows };
}
var WAL_MODE_OFFSET = 18;
async function openAsFileAlone(path) {
  let handle;
  try {
    handle = await open(path, "r+");
    const header = Buffer.alloc(2);
    const { bytesRead } = await handle.read(header, 0, 2, WAL_MODE_OFFSET);
    if (bytesRead === 2 && header[0] === 2 && header[1] === 2) await handle.write(Buffer.from([1, 1]), 0, 2, WAL_MODE_OFFSET);
  } catch (error) {
    throw scratchError(path, "preparing", error);
  } finally {
    await handle?.close();
  }
}
var INTEGRITY_MS_PER_MIB = 50;
function integrityBudgetMs(bytes) {
  return 1e3 + Math.ceil(bytes / (1024 * 1024)) * INTEGRITY_MS_PER_MIB;
}
async function inspectSnapshotDatabase(path, bytes, remainingMs, options = {}) {
  const needs = integrityBudgetMs(bytes);
  if (remainingMs < needs) {
    throw new InfrastructureError(`not enough of the run's time budget left for integrity_check on ${(bytes / (1024 * 1024)).toFixed(1)} MiB (about ${formatDuration(needs)} needed, ${formatDuration(remainingMs)} left)`);
  }
  await openAsFileAlone(path);
  const rows = options.rows ?? true;
  if (!options.offThread) return inspectPrepared(path, rows);
  return options.offThread.workers.run({ path, rows }, options.offThread.bounds, `integrity_check of ${path}`);
}
function inspectPrepared(path, withRows) {
  let db;
  try {
    db = openDatabase(path, { readonly: true });
  } catch (error) {
    if (isScratchSqliteError(error)) throw scratchError(path, "opening", error);
    return {
      integrity: { ok: false, messages: [`could not open: ${errorMessage(error)}`] },
      foreignKeys: { ok: false, violations: [] },
      error: errorMessage(error),
      rows: null
    };
  }
  try {
    try {
      db.pragma(`mmap_size = ${MMAP_BYTES}`);
    } catch {
    }
    return inspectOpen(db, withRows);
  } finally {
    db.close();
  }
}
function missingCommittedRows(older, olderTakenAtMs, newer, slackMs) {
  const missing = [];
  const cutoff = olderTakenAtMs - slackMs;
  for (const [table, rows] of newer) {
    const olderRows = older.get(table);
    if (!olderRows) continue;
    for (const [id, created] of rows) {
      if (created < cutoff && !olderRows.has(id)) missing.push({ table, id, created_at: new Date(created).toISOString() });
    }
  }
  return missing.sort((a, b) => a.created_at < b.created_at ? -1 : 1);
}
var COMPLETENESS_SLACK_MS = 10 * 6e4;
function checkComplete(stamp, takenAtMs, own, next) {
  const id = "snapshot.complete";
  if (!own) return check(id, "skip", "the database was not inspected this run", {});
  if (!own.rows) return check(id, "skip", "the database could not be read (see snapshot.integrity)", {});
  if (!next) return check(id, "skip", "no later snapshot to compare with yet (the newest is judged once a newer one exists)", {});
  if (!next.inspection) return check(id, "skip", `the next snapshot, ${next.stamp}, was not inspected this run`, { next: next.stamp });
  if (!next.inspection.rows) return check(id, "skip", `the next snapshot, ${next.stamp}, could not be read`, { next: next.stamp });
  const missing = missingCommittedRows(expandRowIndex(own.rows), takenAtMs, expandRowIndex(next.inspection.rows), COMPLETENESS_SLACK_MS);
  const evidence = { compared_with: next.stamp, taken_at: new Date(takenAtMs).toISOString(), slack_s: COMPLETENESS_SLACK_MS / 1e3 };
  if (missing.length > 0) {
    const tables = [...new Set(missing.map((m) => m.table))];
    return check(
      id,
      "fail",
      `${missing.length} row(s) written before ${stamp} was taken are missing from it but present in ${next.stamp} (tables: ${tables.join(", ")}): a copy of the main file without its WAL?`,
      { ...evidence, missing_rows: missing.length, first_missing: missing.slice(0, 20) }
    );
  }
  return check(id, "pass", `every row ${next.stamp} holds from before this snapshot is here`, evidence);
}

export {
  integrityCheck,
  foreignKeyCheck,
  fingerprintOf,
  withDatabaseCopy,
  withLiveDatabase,
  inspectDatabaseFile,
  memoriesWithContent,
  fingerprintDifferences,
  inspectSnapshotDatabase,
  inspectPrepared,
  checkComplete
};
