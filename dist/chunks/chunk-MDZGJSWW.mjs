import { createRequire as __atocoreDrillCreateRequire } from 'node:module';
import { fileURLToPath as __atocoreDrillFileURLToPath } from 'node:url';
import { dirname as __atocoreDrillDirname } from 'node:path';
const require = __atocoreDrillCreateRequire(import.meta.url);
const __filename = __atocoreDrillFileURLToPath(import.meta.url);
const __dirname = __atocoreDrillDirname(__filename);
import {
  cutText
} from "./chunk-ELUW7WRM.mjs";

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
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "�").replace(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
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
function reportTitle(report) {
  const profile = report.target.profile;
  const service = typeof profile === "string" && profile !== "atocore" ? profile : "AtoCore";
  if (report.kind === "validate") return `${service} snapshot validation`;
  if (report.kind === "rehearse") return `${service} restore rehearsal`;
  const drills = Array.isArray(report.target.drills) ? report.target.drills.filter((d) => typeof d === "string") : [];
  return drills.some((d) => d !== "restore") ? `${service} drills: ${drills.join(", ")}` : `${service} restore drill`;
}

// src/render/steps.ts
var VALIDATE_STEP_OF_CHECK = /* @__PURE__ */ new Map([
  ["snapshots.listing", "list"],
  ["snapshots.future", "list"],
  ["disk.headroom", "disk"],
  ["offhost.copy", "offhost"]
]);
function stepOfCheck(report, check, stamp) {
  if (report.kind === "validate") return stamp !== null ? "snapshots" : VALIDATE_STEP_OF_CHECK.get(check.id) ?? null;
  return check.step ?? null;
}
function failureCarriedByChecks(report, step) {
  if (step.status !== "fail") return false;
  const failed = (check, stamp) => check.status === "fail" && stepOfCheck(report, check, stamp) === step.id;
  return report.checks.some((c) => failed(c, null)) || report.snapshots.some((s) => s.checks.some((c) => failed(c, s.stamp)));
}

export {
  runOutcome,
  checkOutcome,
  stepOutcome,
  printable,
  firstLine,
  boundedJson,
  reportTitle,
  stepOfCheck,
  failureCarriedByChecks
};
