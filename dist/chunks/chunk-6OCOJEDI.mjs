import { createRequire as __atocoreDrillCreateRequire } from 'node:module';
import { fileURLToPath as __atocoreDrillFileURLToPath } from 'node:url';
import { dirname as __atocoreDrillDirname } from 'node:path';
const require = __atocoreDrillCreateRequire(import.meta.url);
const __filename = __atocoreDrillFileURLToPath(import.meta.url);
const __dirname = __atocoreDrillDirname(__filename);

// src/common/cut-text.ts
function cutText(text, max, note = "…") {
  if (text.length <= max) return text;
  let end = Math.max(0, max - note.length);
  const code = text.charCodeAt(end - 1);
  if (code >= 55296 && code <= 56319) end -= 1;
  return `${text.slice(0, end)}${note}`;
}

// src/engine/planner.ts
function planDrill(input) {
  const step = (id, title, checks = [], always = false) => ({ id, title, checks, always });
  const migration = input.migration === true;
  return [
    step("start", `Start AtoCore${migration ? " (the old image, A)" : ""} on a fresh data root and wait for /health`),
    step("seed", "Seed the registry, Chroma, documents, chunks and memories"),
    step("marker_a", `Write marker A (memory, registry entry${input.includeChroma ? ", Chroma file" : ""}): must come back`),
    step("backup", `Back up${input.includeChroma ? " with Chroma" : ""} and check the snapshot`, [
      "backup.created",
      "backup.valid",
      "backup.independent_integrity"
    ]),
    step("baseline", "Record the baseline fingerprint"),
    ...migration ? [step("upgrade", "Stop A; start the new image B on the same data (B migrates)", ["migration.upgrade_healthy", "migration.schema_additive", "migration.data_preserved"])] : [],
    step("marker_b", `Write marker B in every store${migration ? " under B" : ""}: must disappear`),
    step("stop", `Stop AtoCore${migration ? " (B); roll back to A" : ""}`),
    step("restore_unconfirmed", "Restore without --confirm-service-stopped: must refuse", ["restore.refuses_without_confirm"]),
    step("restore", `Restore with --confirm-service-stopped${migration ? " (A's backup CLI)" : ""} and check the files`, [
      "restore.integrity",
      "restore.ownership",
      "restore.pre_restore_snapshot",
      "marker.pre_backup_present",
      "marker.post_backup_gone",
      "registry.restored",
      ...input.includeChroma ? ["chroma.restored"] : [],
      "baseline.intact",
      ...migration ? ["migration.schema_restored"] : []
    ]),
    step("restart", `Start AtoCore${migration ? " (A again)" : ""} on the restored data (RTO)`, ["service.health"]),
    step("verify_service", "Check that the service serves the restored data", ["service.stats", "service.projects", "service.context"]),
    step("teardown", "Tear down", [], true)
  ];
}
function plannedCheckIds(plan) {
  return plan.flatMap((step) => step.checks);
}

// src/report/outcome.ts
var TABLE = {
  fail: {
    pass: { exitCode: 0, failsJob: false, checkRunConclusion: "success", commitStatusState: "success", banner: "✅ PASS", junit: "none", annotation: null },
    warn: { exitCode: 0, failsJob: false, checkRunConclusion: "neutral", commitStatusState: "success", banner: "⚠️ WARN", junit: "none", annotation: "warning" },
    fail: { exitCode: 1, failsJob: true, checkRunConclusion: "failure", commitStatusState: "failure", banner: "❌ FAIL", junit: "failure", annotation: "failure" },
    error: { exitCode: 3, failsJob: true, checkRunConclusion: "failure", commitStatusState: "error", banner: "🛑 ERROR (could not run)", junit: "error", annotation: "failure" }
  },
  warn: {
    pass: { exitCode: 0, failsJob: false, checkRunConclusion: "success", commitStatusState: "success", banner: "✅ PASS", junit: "none", annotation: null },
    warn: { exitCode: 1, failsJob: true, checkRunConclusion: "failure", commitStatusState: "failure", banner: "⚠️ WARN (failing: fail-on warn)", junit: "failure", annotation: "failure" },
    fail: { exitCode: 1, failsJob: true, checkRunConclusion: "failure", commitStatusState: "failure", banner: "❌ FAIL", junit: "failure", annotation: "failure" },
    error: { exitCode: 3, failsJob: true, checkRunConclusion: "failure", commitStatusState: "error", banner: "🛑 ERROR (could not run)", junit: "error", annotation: "failure" }
  }
};
function runOutcome(verdict, failOn = "fail") {
  return { verdict, failOn, ...TABLE[failOn][verdict] };
}
var CHECK_TABLE = {
  fail: {
    pass: { junit: "pass", annotation: null },
    // a passing test case that says WARN in its output: JUnit has no warning
    warn: { junit: "pass", annotation: "warning" },
    fail: { junit: "failure", annotation: "failure" },
    skip: { junit: "skipped", annotation: null }
  },
  warn: {
    pass: { junit: "pass", annotation: null },
    warn: { junit: "failure", annotation: "failure" },
    fail: { junit: "failure", annotation: "failure" },
    skip: { junit: "skipped", annotation: null }
  }
};
function checkOutcome(status, failOn = "fail") {
  return CHECK_TABLE[failOn][status];
}
var STEP_TABLE = {
  pass: { junit: null, annotation: null },
  // a skipped step's checks are skipped test cases with the reason
  skip: { junit: null, annotation: null },
  fail: { junit: "failure", annotation: "failure" },
  error: { junit: "error", annotation: "failure" }
};
function stepOutcome(status) {
  return STEP_TABLE[status];
}

// src/render/text.ts
function printable(text) {
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "�");
}
function firstLine(text) {
  const newline = text.search(/[\r\n]/);
  return (newline === -1 ? text : text.slice(0, newline)).trim();
}
function boundedJson(value, max) {
  const compact = JSON.stringify(value) ?? "null";
  if (compact.length > max) return cutText(compact, max, "… (cut; the JSON report has all of it)");
  const pretty = JSON.stringify(value, null, 2) ?? "null";
  return pretty.length <= max ? pretty : compact;
}

// src/render/steps.ts
var DRILL_STEP_OF_CHECK = new Map(planDrill({ includeChroma: true, migration: true }).flatMap((step) => step.checks.map((id) => [id, step.id])));
var VALIDATE_STEP_OF_CHECK = /* @__PURE__ */ new Map([
  ["snapshots.listing", "list"],
  ["snapshots.future", "list"],
  ["disk.headroom", "disk"],
  ["offhost.copy", "offhost"]
]);
function stepOfCheck(report, check, stamp) {
  if (report.kind === "validate") return stamp !== null ? "snapshots" : VALIDATE_STEP_OF_CHECK.get(check.id) ?? null;
  return DRILL_STEP_OF_CHECK.get(check.id) ?? null;
}
function failureCarriedByChecks(report, step) {
  if (step.status !== "fail") return false;
  const failed = (check, stamp) => check.status === "fail" && stepOfCheck(report, check, stamp) === step.id;
  return report.checks.some((c) => failed(c, null)) || report.snapshots.some((s) => s.checks.some((c) => failed(c, s.stamp)));
}

export {
  cutText,
  planDrill,
  plannedCheckIds,
  runOutcome,
  checkOutcome,
  stepOutcome,
  printable,
  firstLine,
  boundedJson,
  stepOfCheck,
  failureCarriedByChecks
};
