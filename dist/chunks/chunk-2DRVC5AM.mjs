import { createRequire as __atocoreDrillCreateRequire } from 'node:module';
import { fileURLToPath as __atocoreDrillFileURLToPath } from 'node:url';
import { dirname as __atocoreDrillDirname } from 'node:path';
const require = __atocoreDrillCreateRequire(import.meta.url);
const __filename = __atocoreDrillFileURLToPath(import.meta.url);
const __dirname = __atocoreDrillDirname(__filename);
import {
  boundedJson,
  checkOutcome,
  failureCarriedByChecks,
  firstLine,
  printable,
  reportTitle,
  runOutcome,
  stepOutcome
} from "./chunk-MDZGJSWW.mjs";
import {
  SSH_KEY_ENV,
  SecretText
} from "./chunk-5DDXJCNI.mjs";
import {
  DEFAULT_REMOTE_ROOT
} from "./chunk-OZCMDO6K.mjs";
import {
  DEFAULT_VALIDATOR_COMMAND,
  FieldError,
  checkRemotePath,
  forField,
  formatSshAddress,
  isSnapshotStamp,
  kebab,
  namedForSync,
  parseOffhostTarget,
  parseSnapshotStamp,
  parseSshAddress,
  stampOf,
  token
} from "./chunk-5U54YLIR.mjs";
import {
  getInput,
  setSecret,
  warning
} from "./chunk-K4ZNBP2G.mjs";
import {
  check,
  openDatabase
} from "./chunk-I7NQJPZR.mjs";
import {
  cutText
} from "./chunk-ELUW7WRM.mjs";
import {
  describeFileKind
} from "./chunk-WXOIO7VX.mjs";
import {
  require_undici
} from "./chunk-2ZH3F3DC.mjs";
import {
  describeProcessResult,
  splitCommandLine
} from "./chunk-KVSBDLHU.mjs";
import {
  formatDuration,
  parseDuration
} from "./chunk-GIZ3PXLO.mjs";
import {
  DrillError,
  InfrastructureError,
  InterruptedError,
  ServiceNotHealthyError,
  UsageError,
  errorMessage
} from "./chunk-NLENNPWZ.mjs";
import {
  __toESM
} from "./chunk-DSYZ63NL.mjs";

// src/github/api.ts
var import_undici = __toESM(require_undici(), 1);
var GitHubApiError = class extends Error {
  /** HTTP status; null when no answer came (network, timeout) */
  status;
  method;
  url;
  constructor(message, details) {
    super(message, details.cause === void 0 ? void 0 : { cause: details.cause });
    this.name = "GitHubApiError";
    this.status = details.status;
    this.method = details.method;
    this.url = details.url;
  }
};
var DEFAULT_REQUEST_TIMEOUT_MS = 15e3;
var MAX_BODY_BYTES = 4 * 1024 * 1024;
var GitHubApi = class {
  baseUrl;
  #token;
  #timeoutMs;
  #attempts;
  #signal;
  #userAgent;
  #dispatcher;
  constructor(options) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#token = options.token;
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#attempts = Math.max(1, options.attempts ?? 2);
    this.#signal = options.signal;
    this.#userAgent = options.userAgent ?? "atocore-drill";
    this.#dispatcher = new import_undici.EnvHttpProxyAgent({ connect: { timeout: this.#timeoutMs } });
  }
  /** One call: a 2xx answer, or a GitHubApiError. */
  async call(method, path, body) {
    const url = `${this.baseUrl}${path}`;
    let last;
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      if (attempt > 1) await delay(500 * 2 ** (attempt - 2), this.#signal);
      try {
        const answer = await this.#once(method, url, body);
        if (answer.status >= 200 && answer.status < 300) return answer;
        last = new GitHubApiError(`${method} ${url} answered ${answer.status}${apiMessage(answer.body)}`, { status: answer.status, method, url });
        if (answer.status < 500 && answer.status !== 429) throw last;
      } catch (error) {
        if (error instanceof GitHubApiError && error.status !== null && error.status < 500 && error.status !== 429) throw error;
        last = error instanceof GitHubApiError ? error : new GitHubApiError(`${method} ${url}: ${errorMessage(error)}`, { status: null, method, url, cause: error });
        if (this.#signal?.aborted) throw last;
      }
    }
    throw last ?? new GitHubApiError(`${method} ${url}: no attempt was made`, { status: null, method, url });
  }
  async #once(method, url, body) {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = this.#signal ? AbortSignal.any([timeout, this.#signal]) : timeout;
    let response;
    try {
      response = await (0, import_undici.request)(url, {
        method,
        dispatcher: this.#dispatcher,
        signal,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        headers: {
          accept: "application/vnd.github+json",
          authorization: `Bearer ${this.#token}`,
          "user-agent": this.#userAgent,
          "x-github-api-version": "2022-11-28",
          ...body === void 0 ? {} : { "content-type": "application/json" }
        },
        ...body === void 0 ? {} : { body: JSON.stringify(body) }
      });
    } catch (error) {
      const why = timeout.aborted ? `no answer within ${formatDuration(this.#timeoutMs)}` : errorMessage(error);
      throw new GitHubApiError(`${method} ${url}: ${why}`, { status: null, method, url, cause: error });
    }
    let text2 = "";
    try {
      const bytes = Buffer.from(await response.body.arrayBuffer());
      text2 = bytes.subarray(0, MAX_BODY_BYTES).toString("utf8");
    } catch (error) {
      const why = timeout.aborted ? `the answer did not arrive within ${formatDuration(this.#timeoutMs)}` : errorMessage(error);
      throw new GitHubApiError(`${method} ${url}: ${why}`, { status: null, method, url, cause: error });
    }
    let parsed = void 0;
    try {
      parsed = text2 === "" ? void 0 : JSON.parse(text2);
    } catch {
      parsed = text2.slice(0, 300);
    }
    return { status: response.statusCode, body: parsed };
  }
  async close() {
    await this.#dispatcher.close().catch(() => {
    });
  }
};
function apiMessage(body) {
  if (body && typeof body === "object" && "message" in body && typeof body.message === "string") {
    return `: ${body.message}`;
  }
  if (typeof body === "string" && body.trim() !== "") return `: ${body.trim().slice(0, 200)}`;
  return "";
}
function delay(ms, signal) {
  return new Promise((resolve9) => {
    const timer = setTimeout(resolve9, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve9();
      },
      { once: true }
    );
  });
}

// src/render/mermaid.ts
function mermaidLabel(text2, max = 60, colon = false) {
  const plain = text2.normalize("NFKC").replace(colon ? /[^\p{L}\p{N} ._()/+:-]/gu : /[^\p{L}\p{N} ._()/+-]/gu, " ").replace(/\s+/g, " ").trim().slice(0, max).trim();
  return plain === "" ? "-" : plain;
}
function number(value) {
  return String(Math.round(value * 1e3) / 1e3);
}
function unitFor(maxMs) {
  if (maxMs >= 2 * 36e5) return { name: "hours", ms: 36e5 };
  if (maxMs >= 2 * 6e4) return { name: "minutes", ms: 6e4 };
  return { name: "seconds", ms: 1e3 };
}
function trendChart(trend) {
  const points = trend.points.filter((p) => Number.isFinite(p.ms) && p.ms >= 0);
  if (points.length === 0) return null;
  const budget = trend.budgetMs !== null && Number.isFinite(trend.budgetMs) && trend.budgetMs > 0 ? trend.budgetMs : null;
  const unit = unitFor(Math.max(...points.map((p) => p.ms), budget ?? 0));
  const values = points.map((p) => p.ms / unit.ms);
  const top = Math.max(...values, budget === null ? 0 : budget / unit.ms) * 1.1 || 1;
  const lines = [
    "```mermaid",
    "xychart-beta",
    `    title "${trend.figure} over the last ${points.length} run${points.length === 1 ? "" : "s"} (${unit.name})"`,
    `    x-axis [${points.map((p) => `"${mermaidLabel(p.label, 24, true)}"`).join(", ")}]`,
    `    y-axis "${trend.figure} (${unit.name})" 0 --> ${number(top)}`,
    `    line [${values.map(number).join(", ")}]`
  ];
  if (budget !== null) lines.push(`    line [${points.map(() => number(budget / unit.ms)).join(", ")}]`);
  lines.push("```");
  return lines.join("\n");
}
var GANTT_MAX_STEPS = 40;
var GANTT_TAG = { pass: "done", fail: "crit", error: "crit", skip: "" };
function stepsGantt(steps, title) {
  if (steps.length === 0 || steps.length > GANTT_MAX_STEPS) return null;
  const lines = ["```mermaid", "gantt", `    title ${mermaidLabel(title, 80)}`, "    dateFormat x", "    axisFormat %M:%S", "    section Steps"];
  let start = 0;
  steps.forEach((step2, index) => {
    const duration2 = Number.isFinite(step2.duration_ms) && step2.duration_ms > 0 ? Math.round(step2.duration_ms) : 0;
    const end = start + Math.max(duration2, 1);
    const tag = GANTT_TAG[step2.status] ?? "";
    lines.push(`    ${mermaidLabel(step2.title, 60)} (${mermaidLabel(step2.status, 10)}) :${tag ? `${tag}, ` : ""}s${index}, ${start}, ${end}`);
    start += duration2;
  });
  lines.push("```");
  return lines.join("\n");
}

// src/render/markdown.ts
var ICON = { pass: "✅", warn: "⚠️", fail: "❌", skip: "⏭️", error: "🛑" };
var SUMMARY_LIMIT_BYTES = 900 * 1024;
var NOTE_RESERVE_BYTES = 4 * 1024;
var CELL_CHARS = 300;
function cell(text2, max = CELL_CHARS) {
  return escapeHtml(printable(cutText(text2, max))).replace(/\|/g, "\\|").replace(/\r?\n|\r/g, "<br>");
}
function code(text2) {
  return `\`${printable(cutText(text2, 200)).replace(/[`\r\n]/g, " ")}\``;
}
function escapeHtml(text2) {
  return text2.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
function metric(value, render) {
  return value === null ? "—" : render(value);
}
function fenced(text2, info) {
  const longest = Math.max(0, ...[...text2.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}${info}
${text2}
${fence}`;
}
function evidenceBlock(c, budget) {
  let json = printable(boundedJson(c.evidence, budget));
  const bytes = Buffer.byteLength(json);
  if (bytes > budget) json = cutText(json, Math.floor(json.length * budget / bytes) - 64, "… (cut; the JSON report has all of it)");
  return `<details><summary>${code(c.id)}: ${cell(firstLine(cutText(c.message, 4 * CELL_CHARS)))}</summary>

${fenced(json, "json")}

</details>
`;
}
var BoundedText = class {
  #lines = [];
  #bytes = 0;
  #limit;
  constructor(limit) {
    this.#limit = limit;
  }
  get remaining() {
    return this.#limit - this.#bytes;
  }
  /** Adds the line if it fits within `reserve` bytes of the end; says whether it did. */
  add(line, reserve = NOTE_RESERVE_BYTES) {
    const size = Buffer.byteLength(line) + 1;
    if (this.#bytes + size > this.#limit - reserve) return false;
    this.#lines.push(line);
    this.#bytes += size;
    return true;
  }
  /** Adds rows in order until one does not fit, then a note saying how many were left out. */
  addRows(rows, what) {
    let index = 0;
    for (; index < rows.length; index++) if (!this.add(rows[index])) break;
    if (index < rows.length) this.add(`| … | ${rows.length - index} more ${what} in the JSON report | |`, 0);
  }
  toString() {
    return this.#lines.join("\n");
  }
};
function renderMarkdownSummary(report, failOn2 = "fail", extras = {}) {
  const out = new BoundedText(SUMMARY_LIMIT_BYTES);
  out.add(`## ${reportTitle(report)}: ${runOutcome(report.verdict, failOn2).banner}`);
  out.add("");
  const target = report.target;
  const targets = target.targets ?? [];
  out.add(
    `${targets.length > 0 ? `${targets.length} target${targets.length === 1 ? "" : "s"}` : `Runtime ${code(target.runtime ?? "—")}${target.image ? `, image ${code(target.image)}` : ""}, backup ${code(target.backup_stamp ?? "—")}`}, ${formatDuration(report.duration_ms)} (${cell(report.started_at, 40)} → ${cell(report.finished_at, 40)})`
  );
  out.add("");
  if (targets.length > 0) {
    out.add("### Targets");
    out.add("");
    out.add("| | target | verdict | time | result |");
    out.add("|---|---|---|---|---|");
    out.addRows(
      targets.map((t) => `| ${ICON[t.verdict] ?? "?"} | ${cell(t.label, 200)} | ${t.verdict.toUpperCase()} | ${formatDuration(t.duration_ms)} | ${cell(firstLine(cutText(t.headline, 1e3)), 200)} |`),
      "targets"
    );
    out.add("");
  }
  for (const problem of extras.historyProblems ?? []) {
    out.add(`> **Run history not kept:** ${cell(firstLine(cutText(problem, 1e3)), 400)}. The verdict stands${report.verdict === "pass" || report.verdict === "warn" ? "; the run exits 3 for this (docs/history.md)" : ""}.`);
    out.add("");
  }
  if (report.error) {
    out.add(`> **Could not run:** ${cell(firstLine(cutText(report.error, 4 * CELL_CHARS)))}`);
    out.add("");
  }
  out.add("| RTO | restore | RPO |");
  out.add("|---|---|---|");
  out.add(`| ${metric(report.metrics.rto_ms, formatDuration)} | ${metric(report.metrics.restore_ms, formatDuration)} | ${metric(report.metrics.rpo_s, (s) => formatDuration(s * 1e3))} |`);
  out.add("");
  const trend = extras.trend ? trendChart(extras.trend) : null;
  if (trend && out.add(trend)) out.add("");
  if (report.steps.length > 0) {
    out.add("### Steps");
    out.add("");
    out.add("| | step | time | detail |");
    out.add("|---|---|---|---|");
    out.addRows(
      report.steps.map((step2) => `| ${ICON[step2.status] ?? "?"} | ${cell(step2.title, 200)} | ${formatDuration(step2.duration_ms)} | ${cell(firstLine(cutText(step2.detail, 1e3)), 200)} |`),
      "steps"
    );
    out.add("");
    const gantt = targets.length === 0 ? stepsGantt(report.steps, "Step timeline") : null;
    if (gantt && out.add(gantt)) out.add("");
  }
  out.add("### Checks");
  out.add("");
  out.add("| | check | result |");
  out.add("|---|---|---|");
  out.addRows(
    report.checks.map((c) => `| ${ICON[c.status] ?? "?"} | ${code(c.id)} | ${cell(c.message)} |`),
    "checks"
  );
  out.add("");
  let snapshotsLeft = report.snapshots.length;
  for (const snapshot of report.snapshots) {
    const bad = snapshot.checks.filter((c) => c.status === "fail" || c.status === "warn");
    const shown = bad.slice(0, 20).map((c) => `${code(c.id)} ${cell(c.message, 200)}`);
    const more = bad.length > shown.length ? `; ${bad.length - shown.length} more` : "";
    if (!out.add(`- ${ICON[snapshot.status] ?? "?"} ${code(snapshot.stamp)}${bad.length ? `: ${shown.join("; ")}${more}` : ""}`)) break;
    snapshotsLeft -= 1;
  }
  if (snapshotsLeft > 0) out.add(`- … ${snapshotsLeft} more snapshot(s) in the JSON report`, 0);
  if (report.snapshots.length > 0) out.add("");
  const failures = [...report.checks, ...report.snapshots.flatMap((s) => s.checks)].filter((c) => c.status === "fail" || c.status === "warn");
  if (failures.length > 0 && out.add("### Evidence")) {
    out.add("");
    const perCheck = Math.max(2e3, Math.floor((out.remaining - NOTE_RESERVE_BYTES) / failures.length) - 600);
    let shown = 0;
    for (const failure of failures) {
      if (!out.add(evidenceBlock(failure, perCheck))) break;
      shown += 1;
    }
    if (shown < failures.length) out.add(`
… evidence of ${failures.length - shown} more check(s) in the JSON report.
`, 0);
  }
  return `${out.toString()}
`;
}

// src/render/check-run.ts
var CHECK_RUN_LIMITS = {
  /** output.summary and output.text, in characters */
  outputChars: 65535,
  /** annotations per request */
  annotationsPerRequest: 50,
  /** annotation title, in characters */
  annotationTitleChars: 255,
  /** annotation message and raw_details: GitHub says 64 KB; kept a little under */
  annotationBytes: 64e3
};
function checkRunConclusion(verdict, failOn2) {
  return runOutcome(verdict, failOn2).checkRunConclusion;
}
function allChecks(report) {
  return [...report.checks.map((check2) => ({ check: check2, stamp: null })), ...report.snapshots.flatMap((s) => s.checks.map((check2) => ({ check: check2, stamp: s.stamp })))];
}
var HEADLINE_CHARS = 1e3;
function reportHeadline(report) {
  return cutText(printable(headline(report)), HEADLINE_CHARS);
}
function headline(report) {
  const checks = allChecks(report).map((c) => c.check);
  const failing = checks.filter((c) => c.status === "fail").map((c) => c.id);
  const warning2 = checks.filter((c) => c.status === "warn").map((c) => c.id);
  const rto = report.metrics.rto_ms !== null ? `, RTO ${formatDuration(report.metrics.rto_ms)}` : "";
  switch (report.verdict) {
    case "error":
      return `could not run: ${firstLine(cutText(report.error ?? report.steps.find((s) => s.status === "error")?.detail ?? "see the summary", HEADLINE_CHARS))}`;
    case "fail": {
      const failedSteps = report.steps.filter((s) => s.status === "fail" && !failureCarriedByChecks(report, s)).map((s) => s.id);
      const names = unique([...failing, ...failedSteps]);
      const untold = (report.target.targets ?? []).filter((t) => t.verdict === "error").map((t) => t.label);
      const also = untold.length > 0 ? `; ${untold.length} target${untold.length === 1 ? "" : "s"} could not be told: ${untold.slice(0, 10).join(", ")}` : "";
      return `FAIL: ${names.length} problem${names.length === 1 ? "" : "s"}: ${names.slice(0, 50).join(", ")}${also}`;
    }
    case "warn":
      return `WARN: ${warning2.slice(0, 50).join(", ")}${rto}`;
    case "pass":
      return `PASS: ${checks.filter((c) => c.status === "pass").length}/${checks.length} checks${rto}`;
  }
}
function unique(items) {
  return [...new Set(items)];
}
function truncateText(text2, max, note = "\n\n… (cut to fit; the JSON report has all of it)") {
  return cutText(text2, max, note);
}
function truncateBytes(text2, maxBytes) {
  if (Buffer.byteLength(text2) <= maxBytes) return text2;
  const note = "\n… (cut)";
  const room = maxBytes - Buffer.byteLength(note);
  let cut = text2.slice(0, Math.max(0, room));
  while (Buffer.byteLength(cut) > room) cut = cut.slice(0, Math.floor(cut.length * 0.9));
  const code4 = cut.charCodeAt(cut.length - 1);
  if (code4 >= 55296 && code4 <= 56319) cut = cut.slice(0, -1);
  return `${cut}${note}`;
}
function reportAnnotations(report, target) {
  const failOn2 = target.failOn ?? "fail";
  const annotations = [];
  const at = { path: target.annotationPath, start_line: 1, end_line: 1 };
  const title = (text2) => cutText(printable(firstLine(cutText(text2, 4 * CHECK_RUN_LIMITS.annotationTitleChars))), CHECK_RUN_LIMITS.annotationTitleChars);
  const body = (text2) => truncateBytes(printable(cutText(text2, CHECK_RUN_LIMITS.annotationBytes)), CHECK_RUN_LIMITS.annotationBytes);
  for (const step2 of report.steps) {
    const level = stepOutcome(step2.status).annotation;
    if (level === null || failureCarriedByChecks(report, step2)) continue;
    annotations.push({
      ...at,
      annotation_level: level,
      title: title(`${step2.status === "error" ? "could not run" : "step failed"}: ${step2.id}`),
      message: body(`${step2.title}: ${step2.detail}`)
    });
  }
  for (const { check: check2, stamp } of allChecks(report)) {
    const level = checkOutcome(check2.status, failOn2).annotation;
    if (level === null) continue;
    annotations.push({
      ...at,
      annotation_level: level,
      title: title(stamp ? `${stamp}: ${check2.id}` : check2.id),
      message: body(check2.message),
      raw_details: body(boundedJson(check2.evidence, CHECK_RUN_LIMITS.annotationBytes))
    });
  }
  const wanted = runOutcome(report.verdict, failOn2).annotation;
  if (wanted !== null && !annotations.some((a) => a.annotation_level === wanted)) {
    annotations.unshift({ ...at, annotation_level: wanted, title: title(`${report.kind}: ${report.verdict}`), message: body(reportHeadline(report)) });
  }
  return annotations;
}
function annotationBatches(annotations, size = CHECK_RUN_LIMITS.annotationsPerRequest) {
  const batches = [];
  for (let i = 0; i < annotations.length; i += size) batches.push(annotations.slice(i, i + size));
  return batches;
}
function checkRunSummary(report, target) {
  const lines = [];
  const m = report.metrics;
  lines.push(`**${reportTitle(report)}: ${runOutcome(report.verdict, target.failOn ?? "fail").banner}**`, "");
  if (report.error) lines.push(`> ${cutText(firstLine(cutText(report.error, 2e3)), 1e3)}`, "");
  lines.push(
    `RTO ${m.rto_ms === null ? "—" : formatDuration(m.rto_ms)} · restore ${m.restore_ms === null ? "—" : formatDuration(m.restore_ms)} · RPO ${m.rpo_s === null ? "—" : formatDuration(m.rpo_s * 1e3)} · backup \`${report.target.backup_stamp ?? "—"}\` · ${formatDuration(report.duration_ms)} in all`,
    ""
  );
  const bad = allChecks(report).filter(({ check: check2 }) => check2.status === "fail" || check2.status === "warn");
  for (const { check: check2, stamp } of bad.slice(0, 100)) lines.push(`- ${check2.status === "fail" ? "❌" : "⚠️"} \`${cutText(`${stamp ? `${stamp}: ` : ""}${check2.id}`, 200).replace(/[`\r\n]/g, " ")}\`: ${cutText(firstLine(cutText(check2.message, 2e3)), 500)}`);
  if (bad.length > 100) lines.push(`- … and ${bad.length - 100} more`);
  if (bad.length > 0) lines.push("");
  if (target.checksDocUrl) lines.push(`What each check means and what to do when it fails: ${target.checksDocUrl}`);
  if (target.detailsUrl) lines.push(`The run, its job summary and the report artifact: ${target.detailsUrl}`);
  return truncateText(printable(lines.join("\n")), CHECK_RUN_LIMITS.outputChars);
}
function checkRunTitle(report) {
  return truncateText(reportHeadline(report), 200, "…");
}
function checkRunOutputs(report, target) {
  const base = {
    title: checkRunTitle(report),
    summary: checkRunSummary(report, target),
    text: truncateText(renderMarkdownSummary(report, target.failOn), CHECK_RUN_LIMITS.outputChars)
  };
  const batches = annotationBatches(reportAnnotations(report, target));
  if (batches.length === 0) return [base];
  return batches.map((annotations) => ({ ...base, annotations }));
}
function checkRunStartPayload(target, what, startedAt) {
  return {
    name: target.checkName,
    head_sha: target.headSha,
    status: "in_progress",
    started_at: isoSeconds(startedAt),
    ...target.detailsUrl ? { details_url: target.detailsUrl } : {},
    ...target.externalId ? { external_id: target.externalId } : {},
    output: { title: "Running", summary: truncateText(`Running: ${what}.`, CHECK_RUN_LIMITS.outputChars) }
  };
}
function checkRunFinishPayloads(report, target, created) {
  const outputs = checkRunOutputs(report, target);
  const completion = {
    status: "completed",
    conclusion: checkRunConclusion(report.verdict, target.failOn),
    completed_at: isoSeconds(new Date(report.finished_at))
  };
  if (!created) {
    const [first, ...rest] = outputs;
    return [
      {
        name: target.checkName,
        head_sha: target.headSha,
        started_at: isoSeconds(new Date(report.started_at)),
        ...target.detailsUrl ? { details_url: target.detailsUrl } : {},
        ...target.externalId ? { external_id: target.externalId } : {},
        ...completion,
        output: first
      },
      ...rest.map((output) => ({ output }))
    ];
  }
  return outputs.map((output, index) => index === outputs.length - 1 ? { ...completion, output } : { output });
}
function checkRunCancelPayload(reason, now) {
  return {
    status: "completed",
    conclusion: "cancelled",
    completed_at: isoSeconds(now),
    output: {
      title: "Did not finish",
      summary: truncateText(`The drill did not finish and reported no verdict: ${reason}. Nothing it started is left running (the post step cleaned up).`, CHECK_RUN_LIMITS.outputChars)
    }
  };
}
function isoSeconds(date) {
  return `${date.toISOString().slice(0, 19)}Z`;
}

// src/render/commit-status.ts
var STATUS_DESCRIPTION_CHARS = 140;
function commitStatusState(verdict, failOn2) {
  return runOutcome(verdict, failOn2).commitStatusState;
}
function payload(state, description, target) {
  return {
    state,
    context: target.checkName,
    description: truncateText(description, STATUS_DESCRIPTION_CHARS, "…"),
    ...target.detailsUrl ? { target_url: target.detailsUrl } : {}
  };
}
function commitStatusStartPayload(target, what) {
  return payload("pending", `Running: ${what}`, target);
}
function commitStatusFinishPayload(report, target) {
  return payload(commitStatusState(report.verdict, target.failOn), reportHeadline(report), target);
}
function commitStatusCancelPayload(target, reason) {
  return payload("error", `Did not finish: ${reason}`, target);
}

// src/github/publish.ts
function checksUnavailable(error) {
  return error instanceof GitHubApiError && (error.status === 403 || error.status === 404);
}
function repoPath(repository) {
  const [owner, name] = repository.split("/");
  return `/repos/${encodeURIComponent(owner ?? "")}/${encodeURIComponent(name ?? "")}`;
}
function numberField(body, key) {
  const value = body && typeof body === "object" ? body[key] : void 0;
  return typeof value === "number" && Number.isInteger(value) ? value : null;
}
function stringField(body, key) {
  const value = body && typeof body === "object" ? body[key] : void 0;
  return typeof value === "string" ? value : null;
}
var GitHubPublisher = class {
  #options;
  #problems = [];
  #resource = null;
  #useStatus;
  constructor(options) {
    this.#options = options;
    this.#useStatus = options.mode === "commit-status" || options.mode === "auto" && options.statusesOnly;
  }
  get resource() {
    return this.#resource;
  }
  #problem(message) {
    this.#problems.push(message);
    this.#options.warn(message);
  }
  #fallBackToStatus(error) {
    if (this.#options.mode !== "auto" || !checksUnavailable(error)) return false;
    this.#useStatus = true;
    this.#options.info(`check runs are not available (${errorMessage(error)}); reporting a commit status "${this.#options.target.checkName}" instead`);
    return true;
  }
  #record(resource) {
    this.#resource = resource;
    this.#options.created(resource);
  }
  /** Marks the commit as being drilled. Never throws. */
  async start(what, startedAt) {
    const { api, repository, target } = this.#options;
    if (!this.#useStatus) {
      try {
        const answer = await api.call("POST", `${repoPath(repository)}/check-runs`, checkRunStartPayload(target, what, startedAt));
        const id = numberField(answer.body, "id");
        if (id === null) throw new GitHubApiError(`POST ${api.baseUrl}${repoPath(repository)}/check-runs answered ${answer.status} without a check run id`, { status: answer.status, method: "POST", url: `${api.baseUrl}${repoPath(repository)}/check-runs` });
        this.#record({ kind: "check-run", id, url: stringField(answer.body, "html_url") });
        return;
      } catch (error) {
        if (!this.#fallBackToStatus(error)) {
          this.#problem(`could not create the check run "${target.checkName}" (${errorMessage(error)}); trying again with the verdict`);
          return;
        }
      }
    }
    try {
      await api.call("POST", `${repoPath(repository)}/statuses/${encodeURIComponent(target.headSha)}`, commitStatusStartPayload(target, what));
      this.#record({ kind: "commit-status", sha: target.headSha, context: target.checkName });
    } catch (error) {
      this.#problem(`could not set the pending commit status "${target.checkName}" (${errorMessage(error)}); trying again with the verdict`);
    }
  }
  /** Publishes the verdict. Never throws: failures are in the outcome's problems (and warned). */
  async finish(report) {
    const { api, repository, target } = this.#options;
    if (!this.#useStatus) {
      const created = this.#resource?.kind === "check-run" ? this.#resource : null;
      const payloads = checkRunFinishPayloads(report, target, created !== null);
      let id = created?.id ?? null;
      try {
        for (const payload2 of payloads) {
          if (id === null) {
            const answer = await api.call("POST", `${repoPath(repository)}/check-runs`, payload2);
            id = numberField(answer.body, "id");
            if (id === null) throw new Error(`the API answered ${answer.status} without a check run id`);
            this.#record({ kind: "check-run", id, url: stringField(answer.body, "html_url") });
          } else {
            await api.call("PATCH", `${repoPath(repository)}/check-runs/${id}`, payload2);
          }
        }
        return { resource: this.#resource, problems: this.#problems };
      } catch (error) {
        if (id !== null || !this.#fallBackToStatus(error)) {
          this.#problem(`could not publish the verdict as check run "${target.checkName}" (${errorMessage(error)}); the job summary and the report files have it`);
          return { resource: null, problems: this.#problems };
        }
      }
    }
    try {
      await api.call("POST", `${repoPath(repository)}/statuses/${encodeURIComponent(target.headSha)}`, commitStatusFinishPayload(report, target));
      this.#record({ kind: "commit-status", sha: target.headSha, context: target.checkName });
      return { resource: this.#resource, problems: this.#problems };
    } catch (error) {
      this.#problem(`could not publish the verdict as commit status "${target.checkName}" (${errorMessage(error)}); the job summary and the report files have it`);
      return { resource: null, problems: this.#problems };
    }
  }
};
async function closeAbandoned(api, repository, resource, reason, target) {
  if (resource.kind === "check-run") {
    await api.call("PATCH", `${repoPath(repository)}/check-runs/${resource.id}`, checkRunCancelPayload(reason, /* @__PURE__ */ new Date()));
  } else {
    await api.call("POST", `${repoPath(repository)}/statuses/${encodeURIComponent(resource.sha)}`, commitStatusCancelPayload({ checkName: resource.context, detailsUrl: target.detailsUrl }, reason));
  }
}

// src/output/report-files.ts
import { resolve as resolve2 } from "node:path";

// src/output/output-file.ts
import { randomBytes } from "node:crypto";
import { accessSync, closeSync, constants, lstatSync as lstatSync2, openSync, readlinkSync as readlinkSync2, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { chmod, chown, mkdir, open, rename, rm } from "node:fs/promises";
import { Socket } from "node:net";
import { basename, dirname as dirname2, join, resolve } from "node:path";

// src/output/foreign-links.ts
import { lstatSync, readlinkSync } from "node:fs";
import { dirname } from "node:path";
var STICKY_AND_OPEN = 514;
var MAX_LINK_HOPS = 40;
function isSharedDirectory(dir) {
  return (dir.mode & STICKY_AND_OPEN) === STICKY_AND_OPEN;
}
function followsForeignLink(dir, link, uid) {
  if (!isSharedDirectory(dir)) return false;
  return link.uid !== uid && link.uid !== dir.uid;
}
function lstatOrNull(path) {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}
function foreignLinkOn(path, uid) {
  let pending = (path.startsWith("/") ? path : `${process.cwd()}/${path}`).split("/");
  let dir = "/";
  let hops = 0;
  while (pending.length > 0) {
    const name = pending.shift();
    if (name === "" || name === ".") continue;
    if (name === "..") {
      dir = dirname(dir);
      continue;
    }
    const next = dir === "/" ? `/${name}` : `${dir}/${name}`;
    const stats = lstatOrNull(next);
    if (stats === null) return null;
    if (!stats.isSymbolicLink()) {
      dir = next;
      continue;
    }
    if (++hops > MAX_LINK_HOPS) return null;
    const parent = lstatOrNull(dir);
    if (parent === null) return null;
    if (followsForeignLink(parent, stats, uid)) return { link: next, dir, linkUid: stats.uid, dirUid: parent.uid, uid };
    let target;
    try {
      target = readlinkSync(next);
    } catch {
      return null;
    }
    if (target.startsWith("/")) dir = "/";
    pending = [...target.split("/"), ...pending];
  }
  return null;
}
function describeForeignLink(found) {
  return `${found.link} is a symbolic link in ${found.dir} (sticky, writable by anyone) owned by uid ${found.linkUid}, neither this user (uid ${found.uid}) nor the directory's owner (uid ${found.dirUid}): not followed (the kernel's fs.protected_symlinks rule: another user could aim it at any file)`;
}

// src/output/output-file.ts
var OutputRefused = class extends Error {
};
var WRITE_THROUGH_TIMEOUT_MS = 3e4;
var FD_LINK = /^\/(?:proc\/(?:self|thread-self|\d+)\/fd\/\d+|dev\/fd\/\d+|dev\/stdout|dev\/stderr)$/;
function code2(error) {
  return error?.code;
}
function linkEnd(path) {
  let current = path;
  for (let hops = 0; hops < 40; hops++) {
    let stats;
    try {
      stats = lstatSync2(current);
    } catch (error) {
      if (code2(error) === "ENOENT") return current;
      throw error;
    }
    if (!stats.isSymbolicLink()) return current;
    current = resolve(dirname2(current), readlinkSync2(current));
  }
  throw new OutputRefused(`${path}: too many levels of symbolic links`);
}
function missingPlace(path, given2) {
  let parent = dirname2(path);
  for (; ; ) {
    try {
      const stats = statSync(parent);
      if (!stats.isDirectory()) throw new OutputRefused(`${given2}: ${parent} is not a directory`);
      break;
    } catch (error) {
      if (error instanceof OutputRefused) throw error;
      if (code2(error) === "ENOTDIR") throw new OutputRefused(`${given2}: a parent of ${parent} is not a directory`);
      if (code2(error) !== "ENOENT" || dirname2(parent) === parent) throw new OutputRefused(`${given2}: cannot use ${parent}: ${errorMessage(error)}`);
      parent = dirname2(parent);
    }
  }
  return { kind: "file", path, missing: true, existing: null };
}
function placeOf(stats, path, given2, rules3) {
  if (stats.isFile()) return { kind: "file", path, missing: false, existing: { mode: stats.mode, uid: stats.uid, gid: stats.gid } };
  if (stats.isDirectory()) throw new OutputRefused(`${given2} is a directory, not a file`);
  if (stats.isCharacterDevice() || stats.isFIFO()) {
    if (!rules3.writeThrough) throw new OutputRefused(`${given2} is ${describeFileKind(stats)}, not a regular file`);
    return { kind: stats.isFIFO() ? "fifo" : "device", path: given2, missing: false, existing: null };
  }
  throw new OutputRefused(`${given2} is ${describeFileKind(stats)}; refusing to write a report there`);
}
function refuseForeignLinks(path) {
  const uid = process.geteuid?.();
  if (uid === void 0) return;
  const found = foreignLinkOn(path, uid);
  if (found) throw new OutputRefused(found.link === path ? describeForeignLink(found) : `${path}: ${describeForeignLink(found)}`);
}
function outputPlace(path, rules3) {
  refuseForeignLinks(path);
  let own;
  try {
    own = lstatSync2(path);
  } catch (error) {
    if (code2(error) === "ENOENT") return missingPlace(path, path);
    if (code2(error) === "ENOTDIR") throw new OutputRefused(`${path}: a parent is not a directory`);
    throw new OutputRefused(`${path}: ${errorMessage(error)}`);
  }
  if (!own.isSymbolicLink()) return placeOf(own, path, path, rules3);
  let target;
  try {
    target = statSync(path);
  } catch (error) {
    if (code2(error) === "ENOENT") return missingPlace(linkEnd(path), path);
    if (code2(error) === "ELOOP") throw new OutputRefused(`${path}: too many levels of symbolic links`);
    throw new OutputRefused(`${path}: ${errorMessage(error)}`);
  }
  if (target.isFile() && FD_LINK.test(path)) {
    if (!rules3.writeThrough) throw new OutputRefused(`${path} is a file descriptor link, not a regular file`);
    return { kind: "append", path, missing: false, existing: null };
  }
  if (target.isFile()) return placeOf(target, realpathSync(path), path, rules3);
  return placeOf(target, path, path, rules3);
}
function checkOutputPlace(path, flag, rules3) {
  let place;
  try {
    place = outputPlace(path, rules3);
  } catch (error) {
    throw new UsageError(`${flag}: ${errorMessage(error)}`);
  }
  if (place.kind !== "file") {
    try {
      accessSync(place.path, constants.W_OK);
    } catch (error) {
      throw new UsageError(`${flag}: cannot write to ${path}: ${errorMessage(error)}`);
    }
    return place;
  }
  let dir = dirname2(place.path);
  while (dir !== dirname2(dir)) {
    try {
      statSync(dir);
      break;
    } catch {
      dir = dirname2(dir);
    }
  }
  const probe = join(dir, `.atocore-drill-probe-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    writeFileSync(probe, "", { flag: "wx" });
    rmSync(probe, { force: true });
  } catch (error) {
    throw new UsageError(`${flag}: cannot write under ${dir}: ${errorMessage(error)}`);
  }
  return place;
}
async function replaceFile(place, content) {
  const dir = dirname2(place.path);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${basename(place.path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    const handle = await open(temp, "wx", place.existing ? place.existing.mode & 4095 : 438);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (place.existing) {
      await chmod(temp, place.existing.mode & 4095);
      await chown(temp, place.existing.uid, place.existing.gid).catch(() => void 0);
    }
    await rename(temp, place.path);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => void 0);
    throw error;
  }
}
function bounded(work, timeoutMs, what, onTimeout) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`${what} did not finish within ${formatDuration(timeoutMs)}`));
    }, timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
async function writeThroughFile(path, content, flags, timeoutMs) {
  let handle = null;
  let timedOut = false;
  const close = () => {
    const current = handle;
    handle = null;
    void current?.close().catch(() => void 0);
  };
  const work = (async () => {
    const opened2 = await open(path, flags);
    if (timedOut) {
      void opened2.close().catch(() => void 0);
      return;
    }
    handle = opened2;
    await opened2.writeFile(content);
  })();
  try {
    await bounded(work, timeoutMs, `writing to ${path}`, () => {
      timedOut = true;
      close();
    });
  } finally {
    close();
  }
}
async function writeFifo(path, content, timeoutMs) {
  let fd;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    if (code2(error) === "ENXIO") throw new Error(`${path} is a FIFO with no reader`);
    throw error;
  }
  let socket;
  try {
    socket = new Socket({ fd, readable: false, writable: true });
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  const done = new Promise((resolveDone, reject) => {
    socket.once("error", reject);
    socket.once("finish", resolveDone);
  });
  socket.end(content);
  try {
    await bounded(done, timeoutMs, `writing to the FIFO ${path} (its reader stopped reading)`, () => socket.destroy());
  } finally {
    socket.destroy();
  }
}
async function writeOutputFile(path, content, rules3, timeoutMs = WRITE_THROUGH_TIMEOUT_MS) {
  const place = outputPlace(path, rules3);
  try {
    switch (place.kind) {
      case "file":
        return await replaceFile(place, content);
      case "device":
        return await writeThroughFile(place.path, content, constants.O_WRONLY | constants.O_NOCTTY, timeoutMs);
      case "append":
        return await writeThroughFile(place.path, content, constants.O_WRONLY | constants.O_APPEND | constants.O_NOCTTY, timeoutMs);
      case "fifo":
        return await writeFifo(place.path, content, timeoutMs);
    }
  } catch (error) {
    const message = errorMessage(error);
    throw new OutputRefused(message.includes(path) || message.includes(place.path) ? message : `${path}: ${message}`);
  }
}

// src/render/json.ts
function renderJsonReport(report) {
  return `${JSON.stringify(report, null, 2)}
`;
}

// src/output/report-files.ts
var STDOUT_PATH = "-";
var REPORT_RULES = { writeThrough: true };
function checkReportPath(value, flag) {
  if (value === void 0) return null;
  if (value.trim() === "") throw new UsageError(`${flag}: the file name is empty`);
  if (value === STDOUT_PATH) return STDOUT_PATH;
  const path = resolve2(value);
  checkOutputPlace(path, flag, REPORT_RULES);
  return path;
}
function checkDistinctOutputs(paths) {
  const toStdout = paths.filter(([, path]) => path === STDOUT_PATH).map(([flag]) => flag);
  if (toStdout.length > 1) throw new UsageError(`${toStdout.join(" and ")}: only one report can go to standard output (-)`);
  const seen = /* @__PURE__ */ new Map();
  for (const [flag, path] of paths) {
    if (path === null || path === STDOUT_PATH) continue;
    let place;
    try {
      place = outputPlace(path, REPORT_RULES);
    } catch {
      continue;
    }
    if (place.kind !== "file") continue;
    const other = seen.get(place.path);
    if (other !== void 0) throw new UsageError(`${other} and ${flag} name the same file (${place.path}): one would overwrite the other`);
    seen.set(place.path, flag);
  }
}
function streamBoundMs(bytes) {
  return 3e4 + Math.ceil(bytes / (1024 * 1024)) * 1e3;
}
async function writeStream(stream, content, boundMs = streamBoundMs(Buffer.byteLength(content))) {
  let onError = () => {
  };
  const written = new Promise((resolveWrite, reject) => {
    onError = reject;
    stream.once("error", onError);
    stream.write(content, (error) => error ? reject(error) : resolveWrite());
  });
  try {
    await bounded(written, boundMs, "writing to standard output (its reader stopped reading)", () => stream.on("error", () => {
    }));
  } finally {
    stream.removeListener("error", onError);
  }
}
async function writeReportFiles(report, paths, options = {}) {
  const failOn2 = options.failOn ?? "fail";
  const files = [
    ["--report-json", paths.reportJson, async () => renderJsonReport(report)],
    // xmlbuilder2 is loaded only when a JUnit file is asked for: it is a large part of the start-up
    ["--junit", paths.junit, async () => (await import("./junit-4FEB23RZ.mjs")).renderJunit(report, failOn2)],
    ["--summary", paths.summary, async () => renderMarkdownSummary(report, failOn2, options.summaryExtras)]
  ];
  const unwritten = [];
  files.sort(([, a], [, b]) => Number(a === STDOUT_PATH) - Number(b === STDOUT_PATH));
  for (const [flag, path, render] of files) {
    if (path === null) continue;
    try {
      if (path === STDOUT_PATH) await writeStream(options.stdout ?? process.stdout, await render());
      else await writeOutputFile(path, await render(), REPORT_RULES);
    } catch (error) {
      unwritten.push({ flag, path: path === STDOUT_PATH ? "standard output" : path, reason: errorMessage(error) });
    }
  }
  return unwritten;
}

// src/action/constants.ts
var State = {
  /** the directory main created for everything a run writes (drill roots, key files) */
  WorkDir: "work-dir",
  /** process | container | ssh: where leftovers may be */
  Runtime: "runtime",
  /** JSON of a PublishedResource: the check run or commit status main opened */
  Published: "published",
  /** owner/name the resource lives in */
  Repository: "repository",
  /** the workflow run's URL (commit status target_url) */
  DetailsUrl: "details-url",
  /** "true" once main has published its verdict and cleaned up */
  Finished: "finished"
};
var Input = {
  Mode: "mode",
  Image: "image",
  FromImage: "from-image",
  Command: "command",
  BackupCli: "backup-cli",
  IncludeChroma: "include-chroma",
  Seed: "seed",
  WorkDir: "work-dir",
  Timeout: "timeout",
  Faults: "faults",
  Drills: "drills",
  Profile: "profile",
  ProfileVars: "profile-vars",
  StampTimezone: "stamp-timezone",
  SshHost: "ssh-host",
  SshUser: "ssh-user",
  SshPort: "ssh-port",
  SshKey: "ssh-key",
  SshKnownHosts: "ssh-known-hosts",
  /** the old name of ssh-known-hosts, still read with a warning */
  KnownHosts: "known-hosts",
  Root: "root",
  Rpo: "rpo",
  Deep: "deep",
  Offhost: "offhost",
  AtocoreValidator: "atocore-validator",
  Stamp: "stamp",
  SourcesRoot: "sources-root",
  Reports: "reports",
  FailOn: "fail-on",
  GithubToken: "github-token",
  CheckName: "check-name",
  Publish: "publish",
  ReportDir: "report-dir",
  /** the run history's file, carried from run to run by the cache service (src/action/history.ts) */
  History: "history",
  RtoBudget: "rto-budget"
};
var Output = {
  Verdict: "verdict",
  Report: "report",
  Junit: "junit",
  RtoMs: "rto-ms",
  RpoS: "rpo-s",
  BackupStamp: "backup-stamp",
  CheckRunUrl: "check-run-url"
};
var ReportFile = {
  Json: "report.json",
  Junit: "junit.xml",
  Summary: "summary.md",
  /** the run history's chart, with input history */
  Chart: "history.svg"
};
var DEFAULT_CHECK_NAME = {
  drill: "AtoCore restore drill",
  validate: "AtoCore snapshot validation",
  merge: "AtoCore drill (all targets)",
  rehearse: "AtoCore snapshot rehearsal"
};

// src/action/context.ts
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
function env(name, source) {
  const value = source[name]?.trim();
  return value ? value : null;
}
function pullRequestHead(source) {
  const path = env("GITHUB_EVENT_PATH", source);
  if (!path) return null;
  try {
    const event = JSON.parse(readFileSync(path, "utf8"));
    const sha = event.pull_request?.head?.sha;
    return typeof sha === "string" && /^[0-9a-f]{40,64}$/.test(sha) ? sha : null;
  } catch {
    return null;
  }
}
function workflowFile(source) {
  const ref = env("GITHUB_WORKFLOW_REF", source);
  const repository = env("GITHUB_REPOSITORY", source);
  if (!ref) return null;
  let path = ref.replace(/@[^@]*$/, "");
  if (repository && path.startsWith(`${repository}/`)) path = path.slice(repository.length + 1);
  return path.startsWith(".github/") || path.startsWith(".gitea/") || path.startsWith(".forgejo/") ? path : null;
}
function readRunContext(source = process.env) {
  const server = env("GITHUB_SERVER_URL", source)?.replace(/\/+$/, "") ?? null;
  const repository = env("GITHUB_REPOSITORY", source);
  const runId = env("GITHUB_RUN_ID", source);
  const actionRepository = env("GITHUB_ACTION_REPOSITORY", source);
  const actionRef = env("GITHUB_ACTION_REF", source);
  const statusesOnly = env("GITEA_ACTIONS", source) === "true" || env("FORGEJO_ACTIONS", source) === "true";
  return {
    apiUrl: env("GITHUB_API_URL", source)?.replace(/\/+$/, "") ?? null,
    repository,
    headSha: pullRequestHead(source) ?? env("GITHUB_SHA", source),
    detailsUrl: server && repository && runId ? `${server}/${repository}/actions/runs/${runId}` : null,
    externalId: runId,
    annotationPath: workflowFile(source) ?? ".github",
    statusesOnly,
    checksDocUrl: server && actionRepository && actionRef ? `${server}/${actionRepository}/blob/${actionRef}/docs/checks.md` : null,
    tempBase: env("RUNNER_TEMP", source) ?? tmpdir()
  };
}

// src/action/inputs.ts
import { existsSync as existsSync2, statSync as statSync4 } from "node:fs";
import { basename as basename3, join as join5, resolve as resolve8 } from "node:path";

// src/atocore/standin.ts
import { fileURLToPath } from "node:url";
var DEFAULT_SEED_DIR = fileURLToPath(new URL("../../fixtures/seed/", import.meta.url));
var STANDIN_DIR = fileURLToPath(new URL("../../fixtures/atocore/", import.meta.url));
var STANDIN_SERVICE_COMMAND = ["python3", "-m", "atocore"];
var STANDIN_BACKUP_CLI = ["python3", "-m", "atocore.ops.backup"];
var STANDIN_FAULTS = [
  "restore-skips-db",
  "restore-skips-registry",
  "restore-skips-chroma",
  "restore-ignores-confirm",
  "backup-corrupts-db",
  "validate-always-valid",
  "backup-torn-wal",
  "never-healthy",
  "migration-destructive",
  "restore-wrong-owner",
  // the backup's own verification: validate rejects every snapshot, or never runs integrity_check
  "validate-always-invalid",
  "validate-skips-integrity",
  // the project registry is left out of every snapshot (as AtoCore does when the file is missing)
  "backup-skips-registry",
  // rotation: cleanup deletes without --confirm, the newest, the snapshots directory itself,
  // directories not named like a stamp, keeps no Sundays, or deletes nothing
  "cleanup-ignores-dry-run",
  "cleanup-deletes-newest",
  "cleanup-deletes-root",
  "cleanup-deletes-foreign",
  "cleanup-ignores-weekly",
  "cleanup-deletes-nothing",
  // /stats counts one document and one memory more than the database holds (the rehearsal's rehearsal.stats)
  "stats-lie",
  // /context/build ignores the project asked for (the rehearsal's rehearsal.context, the drill's service.context)
  "context-ignores-project",
  // slowness, for tests that interrupt or cut the budget while an operation is in flight
  "slow-start",
  "slow-restart",
  "slow-backup",
  "slow-validate",
  "slow-refuse",
  "slow-restore"
];
function isStandinFault(name) {
  return STANDIN_FAULTS.includes(name);
}

// src/profiles/load.ts
import { randomBytes as randomBytes2 } from "node:crypto";
import { lstat } from "node:fs/promises";
import { dirname as dirname3, extname, isAbsolute, join as join2, posix, resolve as resolve3 } from "node:path";

// src/common/schema-file.ts
import { constants as constants2 } from "node:fs";
import { open as open2, readFile } from "node:fs/promises";
var SCHEMA_DIR = new URL("../../schema/", import.meta.url);
var compiled = /* @__PURE__ */ new Map();
function schemaValidator(name) {
  const url = new URL(`${name}.schema.json`, SCHEMA_DIR);
  let validator = compiled.get(name);
  if (validator) return validator;
  validator = (async () => {
    let schema;
    try {
      schema = JSON.parse(await readFile(url, "utf8"));
    } catch (error) {
      throw new InfrastructureError(`the ${name} schema could not be read at ${url.pathname}: ${errorMessage(error)} (is the package complete?)`);
    }
    const [ajvModule, formatsModule] = await Promise.all([import("./2020-ESFOTYUB.mjs"), import("./dist-SSDPHP2D.mjs")]);
    const Ajv2020 = ajvModule.default;
    const ajv = new Ajv2020({ allErrors: false, strict: true });
    formatsModule.default(ajv);
    return ajv.compile(schema);
  })();
  compiled.set(name, validator);
  return validator;
}
async function readBounded(path, limit, what) {
  let handle;
  try {
    handle = await open2(path, constants2.O_RDONLY | constants2.O_NONBLOCK | (constants2.O_NOCTTY ?? 0));
  } catch (error) {
    throw new UsageError(`${path}: cannot be read: ${errorMessage(error)}`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new UsageError(`${path}: not a regular file`);
    if (info.size > limit) throw new UsageError(`${path}: ${info.size} bytes, more than ${what} can be (${limit} bytes)`);
    const chunks = [];
    let length = 0;
    try {
      while (length <= limit) {
        const chunk = Buffer.alloc(Math.min(1024 * 1024, limit + 1 - length));
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, length);
        if (bytesRead === 0) break;
        chunks.push(chunk.subarray(0, bytesRead));
        length += bytesRead;
      }
    } catch (error) {
      throw new UsageError(`${path}: cannot be read: ${errorMessage(error)}`);
    }
    if (length > limit) throw new UsageError(`${path}: more than ${what} can be (${limit} bytes)`);
    return Buffer.concat(chunks, length);
  } finally {
    await handle.close();
  }
}
function describeSchemaErrors(validate) {
  const errors = (validate.errors ?? []).slice(0, 3);
  return errors.map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`.slice(0, 300)).join("; ") || "does not match the schema";
}
function decodeUtf8(bytes, context) {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`${context}: not UTF-8 text`);
  }
}

// src/profiles/builtin.ts
import { fileURLToPath as fileURLToPath2 } from "node:url";
var BUILTIN_PROFILES = ["atocore", "jellycore"];
var BUILTIN_PROFILE_DIR = fileURLToPath2(new URL("../../profiles/", import.meta.url));
function isBuiltinProfile(name) {
  return BUILTIN_PROFILES.includes(name);
}

// src/profiles/template.ts
var PLACEHOLDER = /\$(\$?)\{([^}]*)\}/g;
var BUILTIN_PLACEHOLDERS = ["drill_root", "profile_dir", "harness_pid", "backup", "marker"];
function placeholdersIn(text2) {
  const names = [];
  for (const match of text2.matchAll(PLACEHOLDER)) if (match[1] === "") names.push(match[2] ?? "");
  return names;
}
function expand(text2, values) {
  return text2.replace(PLACEHOLDER, (whole, escape, name) => {
    if (escape === "$") return whole.slice(1);
    const value = values[name];
    if (value === void 0) throw new Error(`internal: no value for \${${name}}`);
    return value;
  });
}

// src/profiles/load.ts
var PROFILE_MAX_BYTES = 256 * 1024;
function resolveProfileSpec(spec, base) {
  if (spec === "atocore") return { kind: "atocore" };
  if (isBuiltinProfile(spec)) return { kind: "file", path: join2(BUILTIN_PROFILE_DIR, `${spec}.yaml`), builtin: spec };
  if (!/[/.]/.test(spec)) {
    throw new FieldError("profile", `"${spec}" is neither a built-in profile (${BUILTIN_PROFILES.join(", ")}) nor a file (a path holds "/" or ends in .yaml, .yml or .json)`);
  }
  return { kind: "file", path: isAbsolute(spec) ? spec : resolve3(base, spec), builtin: null };
}
function parseProfileVars(lines) {
  const vars = {};
  for (const line of lines) {
    const match = /^([a-z][a-z0-9_]{0,39})=(.*)$/s.exec(line);
    if (!match) throw new FieldError("profileVars", `"${line.slice(0, 80)}" is not NAME=VALUE (a name of lower-case letters, digits and _)`);
    vars[match[1]] = match[2];
  }
  return vars;
}
async function loadProfileFile(spec, overrides) {
  const where = spec.builtin ? `built-in profile ${spec.builtin}` : spec.path;
  const fail = (what) => {
    throw new FieldError("profile", `${where}: ${what}`);
  };
  const info = await lstat(spec.path).catch((error) => fail(`cannot be read: ${errorMessage(error)}`));
  if (info.isSymbolicLink() || !info.isFile()) fail("not a regular file");
  let bytes;
  try {
    bytes = await readBounded(spec.path, PROFILE_MAX_BYTES, "a profile");
  } catch (error) {
    return fail(errorMessage(error).replace(`${spec.path}: `, ""));
  }
  let text2;
  try {
    text2 = decodeUtf8(bytes, "the file");
  } catch (error) {
    return fail(errorMessage(error));
  }
  const value = await parseDeclaration(text2, extname(spec.path).toLowerCase() === ".json").catch((error) => fail(errorMessage(error)));
  const validate = await schemaValidator("profile");
  if (!validate(value)) fail(`not an atocore-drill/profile@1 profile: ${describeSchemaErrors(validate).replace(/(^|; )\/(\S*)/g, (_m, sep2, path) => `${sep2}${path.replace(/\//g, ".") || "(top)"}`)}`);
  const profile = value;
  for (const problem of semanticProblems(profile)) fail(problem);
  const unknown = Object.keys(overrides).filter((name) => !Object.hasOwn(profile.variables ?? {}, name));
  if (unknown.length > 0) {
    throw new FieldError("profileVars", `${unknown.join(", ")}: not a variable of ${where} (its variables: ${Object.keys(profile.variables ?? {}).join(", ") || "none"})`);
  }
  const variables = { ...profile.variables, ...overrides };
  for (const problem of pathsOutsideTheDrillRoot(profile, variables)) fail(problem);
  return { profile, source: where, dir: dirname3(spec.path), variables };
}
var ROOT_STAND_IN = `/atocore-drill-root-${randomBytes2(8).toString("hex")}`;
function pathsOutsideTheDrillRoot(profile, variables) {
  const builtins = { drill_root: ROOT_STAND_IN, profile_dir: "/profile-dir", harness_pid: "1", backup: "/backup", marker: "marker" };
  for (const port of profile.ports ?? []) builtins[`port:${port}`] = "1";
  const values = { ...builtins, ...Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, expand(value, builtins)])) };
  const places = [
    ...profile.stores.flatMap((store, i) => "path" in store ? [[`stores.${i}.path`, store.path]] : []),
    ["backup.root", profile.backup.root],
    ...profile.offsite ? [["offsite.remote", profile.offsite.remote]] : []
  ];
  return places.filter(([, template]) => !posix.normalize(expand(template, values)).startsWith(`${ROOT_STAND_IN}/`)).map(
    ([place, template]) => `${place}: "${template}" is not under \${drill_root}: a drill writes markers into its stores and restores over them, so every store, the backup root and the off-site remote must be the drill's own`
  );
}
async function parseDeclaration(text2, json) {
  if (json) {
    try {
      return JSON.parse(text2);
    } catch (error) {
      const at = /position (\d+)/.exec(errorMessage(error))?.[1];
      throw new Error(`not JSON${at ? ` (stops at byte ${at})` : ""}`);
    }
  }
  const yaml = await import("./dist-OAJ45ILT.mjs");
  const parseDocument = yaml.parseDocument ?? yaml.default.parseDocument;
  const doc = parseDocument(text2, { uniqueKeys: true, prettyErrors: false });
  const first = doc.errors[0];
  if (first) throw new Error(`not YAML: ${first.message.split("\n")[0].slice(0, 200)}`);
  try {
    return doc.toJS({ maxAliasCount: 0 });
  } catch (error) {
    throw new Error(`not usable YAML: ${errorMessage(error).slice(0, 200)}`);
  }
}
var CONTEXT_PLACEHOLDERS = /* @__PURE__ */ new Map([
  ["backup", /^(restore|verification)\.command\./],
  ["marker", /^stores\.\d+\.marker\./]
]);
function semanticProblems(profile) {
  const problems = [];
  const duplicates = (ids) => ids.filter((id, i) => ids.indexOf(id) !== i);
  for (const id of duplicates(profile.stores.map((s) => s.id))) problems.push(`stores: the id "${id}" is used twice`);
  for (const id of duplicates((profile.probes ?? []).map((p) => p.id))) problems.push(`probes: the id "${id}" is used twice`);
  const durations = [
    ["service.start_timeout", profile.service.start_timeout],
    ["service.stop_timeout", profile.service.stop_timeout],
    ["backup.timeout", profile.backup.timeout],
    ["restore.timeout", profile.restore.timeout]
  ];
  for (const [place, value] of durations) if (value !== void 0 && /^0+(ms|s|m|h)$/.test(value)) problems.push(`${place}: "${value}" leaves no time at all`);
  if (profile.backup.output !== void 0) {
    try {
      if (!/\(\?<path>/.test(profile.backup.output)) problems.push("backup.output: the pattern has no group named path, (?<path>…)");
      new RegExp(profile.backup.output);
    } catch (error) {
      problems.push(`backup.output: not a regular expression: ${errorMessage(error)}`);
    }
  }
  const everywhere = [...BUILTIN_PLACEHOLDERS.filter((name) => !CONTEXT_PLACEHOLDERS.has(name)), ...Object.keys(profile.variables ?? {}), ...(profile.ports ?? []).map((p) => `port:${p}`)];
  for (const [path, text2] of stringsOf(profile, "")) {
    const known = /* @__PURE__ */ new Set([...everywhere, ...[...CONTEXT_PLACEHOLDERS.keys()].filter((name) => CONTEXT_PLACEHOLDERS.get(name).test(path))]);
    for (const name of placeholdersIn(text2)) if (!known.has(name)) problems.push(`${path}: \${${name}} is not a placeholder this profile knows here (${[...known].join(", ")})`);
  }
  return problems;
}
function* stringsOf(value, path) {
  if (typeof value === "string") yield [path || "(top)", value];
  else if (Array.isArray(value)) for (const [i, item] of value.entries()) yield* stringsOf(item, path ? `${path}.${i}` : String(i));
  else if (value && typeof value === "object") for (const [key, item] of Object.entries(value)) yield* stringsOf(item, path ? `${path}.${key}` : key);
}

// src/inputs/rules.ts
import { accessSync as accessSync2, constants as fsConstants, existsSync, statSync as statSync2 } from "node:fs";
import { resolve as resolve4 } from "node:path";

// src/engine/drill-names.ts
var DRILL_NAMES = ["restore", "verification", "offsite", "rotation"];
function isDrillName(name) {
  return DRILL_NAMES.includes(name);
}

// src/inputs/rules.ts
function duration(field, value) {
  return forField(field, (name) => parseDuration(value, name));
}
function commandLine(field, value) {
  return forField(field, (name) => splitCommandLine(value, name));
}
function failOn(value) {
  if (value === void 0 || value === "fail") return "fail";
  if (value === "warn") return "warn";
  throw new FieldError("failOn", `"${value}" is not one of fail, warn`);
}
function profileName(field, value, known) {
  const name = value?.trim() || "atocore";
  if (!isBuiltinProfile(name) || !known.includes(name)) throw new FieldError(field, `"${value}" is not a known profile (known: ${known.join(", ")})`);
  return name;
}
function wholeNumber(field, value, min, max) {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) throw new FieldError(field, `"${value}" is not a whole number from ${min} to ${max}`);
  return Number(value);
}
function existingFile(field, value, base) {
  const path = resolve4(base, value);
  if (!existsSync(path)) throw new FieldError(field, `${path} does not exist`);
  if (!statSync2(path).isFile()) throw new FieldError(field, `${path} is not a file`);
  return path;
}
function existingDirectory(field, value, base) {
  const path = resolve4(base, value);
  if (!existsSync(path) || !statSync2(path).isDirectory()) throw new FieldError(field, `${path} is not a directory`);
  return path;
}
function workDirectory(field, value, base) {
  const path = existingDirectory(field, value, base);
  if (/[:,]/.test(path)) throw new FieldError(field, `${path} holds a ':' or ','; Docker cannot bind-mount such a path: name another directory`);
  try {
    accessSync2(path, fsConstants.W_OK | fsConstants.X_OK);
  } catch {
    throw new FieldError(field, `${path} is not a directory this user can write`);
  }
  return path;
}
function reportPaths(raw, others = []) {
  const paths = {
    reportJson: forField("reportJson", (name) => checkReportPath(raw.reportJson, name)),
    junit: forField("junit", (name) => checkReportPath(raw.junit, name)),
    summary: forField("summary", (name) => checkReportPath(raw.summary, name))
  };
  const all = [...others, ["reportJson", paths.reportJson], ["junit", paths.junit], ["summary", paths.summary]];
  forField("reportJson", () => checkDistinctOutputs(all.map(([field, path]) => [token(field), path])));
  return paths;
}
function drillNames(field, value, fallback) {
  if (value === void 0) return [...fallback];
  const names = value.split(/[\s,]+/).filter((name) => name !== "");
  if (names.length === 0) throw new FieldError(field, `names no drill (known: ${DRILL_NAMES.join(", ")})`);
  const unknown = names.filter((name) => !isDrillName(name));
  if (unknown.length > 0) throw new FieldError(field, `${unknown.map((name) => `"${name}"`).join(", ")} ${unknown.length === 1 ? "is not a drill" : "are not drills"} (known: ${DRILL_NAMES.join(", ")})`);
  return DRILL_NAMES.filter((name) => names.includes(name));
}

// src/engine/rotation.ts
var DAY_MS = 864e5;
function retentionPromise(policy, backups, now) {
  const ordered = [...backups].sort((a, b) => a.time - b.time || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const newest = ordered.at(-1)?.name ?? null;
  const kept = "keepDays" in policy ? keptByAge(policy.keepDays, ordered, now) : keptByCalendar(policy, ordered);
  return {
    promised: ordered.filter((backup) => kept.has(backup.name)).map((backup) => backup.name),
    expired: ordered.filter((backup) => !kept.has(backup.name) && backup.name !== newest).map((backup) => backup.name),
    newest
  };
}
function keptByAge(keepDays, backups, now) {
  return new Set(backups.filter((backup) => now - backup.time < keepDays * DAY_MS).map((backup) => backup.name));
}
function keptByCalendar(policy, backups) {
  const newestOfDay = /* @__PURE__ */ new Map();
  for (const backup of backups) newestOfDay.set(new Date(backup.time).toISOString().slice(0, 10), backup.name);
  const days = [...newestOfDay.keys()].sort().reverse();
  const sundays = days.filter((day) => (/* @__PURE__ */ new Date(`${day}T00:00:00Z`)).getUTCDay() === 0);
  const firsts = days.filter((day) => day.endsWith("-01"));
  const keepDays = [...days.slice(0, policy.daily), ...sundays.slice(0, policy.weekly), ...firsts.slice(0, policy.monthly)];
  return new Set(keepDays.map((day) => newestOfDay.get(day)));
}
function judgeDryRun(differences, rootSurvived) {
  const id = "rotation.dry_run_changes_nothing";
  if (!rootSurvived) return check(id, "fail", "the dry run deleted the backup root itself", { root_survived: false });
  const { added, removed, changed } = differences;
  if (added.length + removed.length + changed.length === 0) return check(id, "pass", "the dry run left every file of the backup root as it was");
  const parts = [
    ...removed.length > 0 ? [`${removed.length} file(s) deleted (${topLevel(removed)})`] : [],
    ...changed.length > 0 ? [`${changed.length} changed (${topLevel(changed)})`] : [],
    ...added.length > 0 ? [`${added.length} added (${topLevel(added)})`] : []
  ];
  return check(id, "fail", `the dry run changed the backup root: ${parts.join(", ")}`, { removed: [...removed], changed: [...changed], added: [...added] });
}
function topLevel(paths) {
  const names = [...new Set(paths.map((path) => path.split("/")[0]))];
  return names.length > 10 ? `${names.slice(0, 10).join(", ")} and ${names.length - 10} more` : names.join(", ");
}
var ROTATION_CHECK_IDS = ["rotation.keeps_root", "rotation.keeps_newest", "rotation.keeps_promised", "rotation.keeps_foreign", "rotation.removes_expired"];
function judgeRotation(observation) {
  const survived = new Set(observation.rootSurvived ? observation.survivors : []);
  const ageOf = new Map(observation.backups.map((backup) => [backup.name, backup.ageDays]));
  const aged = (names) => names.map((name) => ageOf.has(name) ? `${name} (${formatAge(ageOf.get(name))})` : name).join(", ");
  const deleted = (names) => names.filter((name) => !survived.has(name));
  const evidence = { survivors: [...survived].sort(), made: observation.backups.map((backup) => backup.name) };
  return [
    keepsRoot(observation.rootSurvived),
    keepsNewest(observation.newest, survived, aged, evidence),
    keepsPromised(observation.promised, deleted(observation.promised), aged, evidence),
    keepsForeign(observation.foreign, deleted(observation.foreign), evidence),
    removesExpired(observation.expired.filter((name) => name !== observation.newest), survived, aged, evidence)
  ];
}
function keepsRoot(rootSurvived) {
  return rootSurvived ? check("rotation.keeps_root", "pass", "the backup root is still there after the rotation") : check("rotation.keeps_root", "fail", "the rotation deleted the backup root itself, and every backup in it", { root_survived: false });
}
function keepsNewest(newest, survived, aged, evidence) {
  if (newest === null) return check("rotation.keeps_newest", "skip", "the drill made no backup, so there is no newest to keep");
  return survived.has(newest) ? check("rotation.keeps_newest", "pass", `the newest backup ${aged([newest])} survived the rotation`, { newest }) : check("rotation.keeps_newest", "fail", `the rotation deleted the newest backup ${aged([newest])}: nothing newer is left to restore from`, { newest, ...evidence });
}
function keepsPromised(promised, deleted, aged, evidence) {
  if (promised.length === 0) return check("rotation.keeps_promised", "skip", "the policy promised to keep none of the backups the drill made");
  if (deleted.length > 0) {
    return check("rotation.keeps_promised", "fail", `the rotation deleted ${deleted.length} of the ${promised.length} backups its policy promises to keep: ${aged(deleted)}`, {
      deleted_promised: [...deleted],
      promised: [...promised],
      ...evidence
    });
  }
  return check("rotation.keeps_promised", "pass", `all ${promised.length} backups the policy promises to keep survived`, { promised: [...promised] });
}
function keepsForeign(foreign, deleted, evidence) {
  if (foreign.length === 0) return check("rotation.keeps_foreign", "skip", "there was no directory in the backup root that is not a backup");
  if (deleted.length > 0) {
    return check("rotation.keeps_foreign", "fail", `the rotation deleted ${deleted.length === 1 ? "a directory" : "directories"} not named like a backup: ${deleted.join(", ")}`, {
      deleted_foreign: [...deleted],
      foreign: [...foreign],
      ...evidence
    });
  }
  return check("rotation.keeps_foreign", "pass", `the rotation left alone what is not a backup: ${foreign.join(", ")}`, { foreign: [...foreign] });
}
function removesExpired(expired, survived, aged, evidence) {
  if (expired.length === 0) return check("rotation.removes_expired", "skip", "none of the backups the drill made is past the policy");
  const left = expired.filter((name) => survived.has(name));
  if (left.length > 0) {
    return check("rotation.removes_expired", "warn", `${left.length} of the ${expired.length} backups past the policy survived the rotation, so the disk keeps growing: ${aged(left)}`, {
      expired_survivors: left,
      expired: [...expired],
      ...evidence
    });
  }
  return check("rotation.removes_expired", "pass", `the rotation removed all ${expired.length} backups past the policy`, { expired: [...expired] });
}
function formatAge(days) {
  if (days === 1) return "1 day old";
  return Number.isInteger(days) ? `${days} days old` : `${days.toFixed(1)} days old`;
}

// src/engine/step-loop.ts
async function runPlan(plan, perform, hooks = {}) {
  const steps = [];
  let halted;
  let error;
  for (const step2 of plan) {
    if (halted !== void 0 && !step2.always) {
      const skipped = { id: step2.id, title: step2.title, status: "skip", duration_ms: 0, detail: `not run: ${halted}` };
      steps.push(skipped);
      hooks.finished?.(skipped, step2);
      continue;
    }
    hooks.started?.(step2);
    const began = Date.now();
    const outcome = await perform(step2);
    const record = { id: step2.id, title: step2.title, status: outcome.status, duration_ms: Date.now() - began, detail: outcome.detail };
    steps.push(record);
    if (outcome.status !== "pass") {
      const reason = outcome.reason ?? outcome.detail;
      if (outcome.status === "error") error ??= reason;
      if (!step2.always && outcome.halts !== false) halted ??= haltReason(step2, outcome.status, reason);
    }
    hooks.finished?.(record, step2);
  }
  return { steps, ...halted !== void 0 ? { halted } : {}, ...error !== void 0 ? { error } : {} };
}
function haltReason(step2, status, reason) {
  return `step ${step2.id} ${status === "fail" ? "failed" : "could not run"}: ${(reason.split("\n")[0] ?? "").slice(0, 300)}`;
}

// src/engine/classification.ts
import { constants as osConstants } from "node:os";
var StepFinding = class extends Error {
};
var OUTSIDE_SIGNALS = /* @__PURE__ */ new Set(["SIGKILL", "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGPIPE", "SIGALRM", "SIGUSR1", "SIGUSR2", "SIGXCPU", "SIGXFSZ"]);
function whyNotEvidence(result, doing, boundName = "its time bound") {
  if (result.spawnError) return `${doing}: could not start ${result.argv[0] ?? "the command"}: ${result.spawnError}`;
  if (result.aborted) return `${doing} was interrupted after ${formatDuration(result.durationMs)}`;
  if (result.timedOut) return `${doing} was cut at ${boundName} after ${formatDuration(result.durationMs)}`;
  if (result.signal && OUTSIDE_SIGNALS.has(result.signal)) return `${doing} was killed by ${result.signal}, not by anything it did`;
  const relayed = typeof result.exitCode === "number" && result.exitCode > 128 ? signalNamed(result.exitCode - 128) : null;
  if (relayed && OUTSIDE_SIGNALS.has(relayed)) return `${doing} ended with exit ${result.exitCode}, as a wrapper reports a command killed by ${relayed}: not an answer`;
  if (result.exitCode === null && result.signal === null) return `${doing} ended without an exit status`;
  return null;
}
function requireEvidence(call, doing, boundName) {
  const why = whyNotEvidence(call.result, doing, boundName);
  if (why) throw new InfrastructureError(why);
  return call;
}
function isServiceStartFinding(error, context) {
  if (context.interrupted || !(error instanceof ServiceNotHealthyError)) return false;
  return error.reason === "exited" || !context.budgetLimited;
}
function stepStatusFor(error, interrupted) {
  return error instanceof StepFinding && !interrupted ? "fail" : "error";
}
function isExpectedError(error) {
  return error instanceof DrillError || error instanceof StepFinding || error instanceof InterruptedError;
}
function signalNamed(number2) {
  return Object.entries(osConstants.signals).find(([, value]) => value === number2)?.[0] ?? null;
}

// src/engine/verification.ts
var DESCRIBED = {
  corrupt_database: "a database with pages overwritten mid-file",
  truncated_archive: "an archive cut in half",
  emptied_directory: "an emptied directory",
  missing_file: "a missing file",
  corrupt_json: "a JSON file that does not parse"
};
function verifierAnswer(result, doing, read, boundName) {
  const why = whyNotEvidence(result, doing, boundName);
  return why ? { said: "not_evidence", detail: why } : read(result);
}
function catchesCheckId(kind) {
  return `verification.catches_${kind}`;
}
function judgeVerification(observation) {
  return [acceptsGood(observation.good), ...observation.corrupted.map(catches)];
}
function verificationNotEvidence(observation) {
  const answers = [observation.good, ...observation.corrupted.map((copy) => copy.answer)];
  return answers.find((answer) => answer.said === "not_evidence")?.detail ?? null;
}
function acceptsGood(answer) {
  const id = "verification.accepts_good";
  const evidence = { said: answer.said, detail: answer.detail };
  switch (answer.said) {
    case "accepted":
      return check(id, "pass", "the verifier accepts the good backup", evidence);
    case "rejected":
      return check(id, "fail", `the verifier rejects a good backup (one a restore brings back): ${answer.detail}`, evidence);
    case "could_not_tell":
      return check(id, "fail", `the verifier gives no verdict on a good backup: ${answer.detail}`, evidence);
    case "not_evidence":
    case "not_asked":
      return check(id, "skip", `not judged: ${answer.detail}`, evidence);
  }
}
function catches(copy) {
  const id = catchesCheckId(copy.kind);
  const what = `${DESCRIBED[copy.kind]} (${copy.target})`;
  const evidence = { kind: copy.kind, target: copy.target, said: copy.answer.said, detail: copy.answer.detail };
  switch (copy.answer.said) {
    case "rejected":
      return check(id, "pass", `the verifier rejects a copy with ${what}: ${copy.answer.detail}`, evidence);
    case "accepted":
      return check(id, "fail", `the verifier accepts a copy with ${what}: a backup that cannot be restored passes its own verification`, evidence);
    case "could_not_tell":
      return check(id, "warn", `the verifier neither accepts nor rejects a copy with ${what}: ${copy.answer.detail}`, evidence);
    case "not_evidence":
    case "not_asked":
      return check(id, "skip", `not judged: ${copy.answer.detail}`, evidence);
  }
}

// src/atocore/drill/beyond-restore.ts
var ATOCORE_RETENTION = { daily: 7, weekly: 4, monthly: 6 };
var FOREIGN_DIRECTORY = "lost+found";
var DAY_MS2 = 864e5;
var HOUR_MS = 36e5;
function rotationStamps(now) {
  const today = Math.floor(now / DAY_MS2) * DAY_MS2;
  const at = (daysBack, hour) => today - daysBack * DAY_MS2 + hour * HOUR_MS;
  const times = /* @__PURE__ */ new Set();
  for (let day = 1; day <= 9; day++) times.add(at(day, 6));
  for (const day of [1, 2]) times.add(at(day, 18));
  for (let day = 10; day <= 220; day++) {
    const date = new Date(at(day, 6));
    if (date.getUTCDay() === 0 && day <= 70 || date.getUTCDate() === 1) times.add(at(day, 6));
  }
  for (const day of [12, 40, 100, 199]) times.add(at(day, 6));
  return [...times].sort((a, b) => a - b).map((time) => stampOf(new Date(time)));
}
var ATOCORE_CORRUPTIONS = [
  { kind: "corrupt_database", target: "db/atocore.db", stamp: "20000101T000001Z" },
  { kind: "corrupt_json", target: "config/project-registry.json", stamp: "20000101T000002Z" },
  { kind: "missing_file", target: "db/atocore.db", stamp: "20000101T000003Z" }
];
function readValidateAnswer(call) {
  const json = call.json;
  const errors = Array.isArray(json?.["errors"]) ? json["errors"].map(String) : [];
  if (call.result.exitCode !== 0) {
    const said = errors[0] ?? call.result.stderr.trim().split("\n").at(-1) ?? "";
    return { said: "rejected", detail: `${describeProcessResult(call.result)}${said ? `: ${said.slice(0, 300)}` : ""}` };
  }
  if (!json) return { said: "could_not_tell", detail: "validate exited 0 and printed no JSON object" };
  const valid = json["valid"];
  if (valid === true && errors.length === 0) return { said: "accepted", detail: '"valid": true, no errors' };
  if (valid === false || errors.length > 0) return { said: "rejected", detail: errors.length > 0 ? errors.slice(0, 3).join("; ").slice(0, 500) : '"valid": false' };
  return { said: "could_not_tell", detail: `validate answered without a verdict ("valid": ${JSON.stringify(valid) ?? "absent"}, no errors)` };
}

// src/atocore/drill/plan.ts
var ATOCORE_DRILLS = ["restore", "verification", "rotation"];
var ATOCORE_NO_OFFSITE = "AtoCore's backup module has no off-site step (the off-host copy is an rsync of its own, outside AtoCore)";
function planDrill(input) {
  const drills = new Set(input.drills ?? ["restore"]);
  if (drills.has("offsite")) throw new Error(`planDrill: ${ATOCORE_NO_OFFSITE}`);
  const beyond = [
    // verification first: rotation may delete the snapshot it validates
    ...drills.has("verification") ? [step("verification", "Validate the snapshot and copies of it with one corruption each", ["verification.accepts_good", ...ATOCORE_CORRUPTIONS.map((c) => catchesCheckId(c.kind))])] : [],
    ...drills.has("rotation") ? [step("rotation", "Make snapshots stamped across 220 days and a foreign directory; cleanup as a dry run, then confirmed", ["rotation.dry_run_changes_nothing", ...ROTATION_CHECK_IDS])] : []
  ];
  if (!drills.has("restore")) {
    return [
      step("start", "Start AtoCore on a fresh data root and wait for /health"),
      step("seed", "Seed the registry, Chroma, documents, chunks and memories"),
      backupStep(input.includeChroma),
      ...beyond,
      step("teardown", "Tear down", [], true)
    ];
  }
  const restoreSteps = planRestoreDrill(input);
  return [...restoreSteps.slice(0, -1), ...beyond, restoreSteps.at(-1)];
}
function step(id, title, checks = [], always = false) {
  return { id, title, checks, always };
}
function backupStep(includeChroma) {
  return step("backup", `Back up${includeChroma ? " with Chroma" : ""} and check the snapshot`, ["backup.created", "backup.valid", "backup.independent_integrity"]);
}
function planRestoreDrill(input) {
  const migration = input.migration === true;
  return [
    step("start", `Start AtoCore${migration ? " (the old image, A)" : ""} on a fresh data root and wait for /health`),
    step("seed", "Seed the registry, Chroma, documents, chunks and memories"),
    step("marker_a", `Write marker A (memory, registry entry${input.includeChroma ? ", Chroma file" : ""}): must come back`),
    backupStep(input.includeChroma),
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

// src/atocore/drill/seed-generator.ts
import { createHash } from "node:crypto";

// src/engine/own-writes.ts
var DISK_ERRNOS = /* @__PURE__ */ new Set(["ENOSPC", "EDQUOT"]);
function isDiskError(error) {
  const code4 = error?.code;
  if (typeof code4 !== "string") return false;
  return DISK_ERRNOS.has(code4) || code4 === "SQLITE_FULL" || code4.startsWith("SQLITE_IOERR");
}
function diskError(path, doing, error) {
  const code4 = error.code;
  return new InfrastructureError(`${doing} ${path} failed: the disk under the drill root refused the write (${String(code4)}: ${errorMessage(error)}); this says nothing about AtoCore`);
}
function ownWrite(path, doing, write) {
  try {
    return write();
  } catch (error) {
    if (isDiskError(error)) throw diskError(path, doing, error);
    throw error;
  }
}
async function ownWriteAsync(path, doing, write) {
  try {
    return await write();
  } catch (error) {
    if (isDiskError(error)) throw diskError(path, doing, error);
    throw error;
  }
}

// src/atocore/drill/seed-generator.ts
var SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*(k|kb|kib|m|mb|mib|g|gb|gib)$/i;
var UNIT_BYTES = { k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3 };
var MAX_SEED_BYTES = 64 * 1024 ** 3;
function parseSeedSize(text2) {
  const match = SIZE_PATTERN.exec(text2.trim());
  if (!match) return null;
  const bytes = Math.round(Number(match[1]) * UNIT_BYTES[match[2].toLowerCase()]);
  return Number.isFinite(bytes) && bytes > 0 ? bytes : null;
}
var Sequence = class {
  #state;
  constructor(seed) {
    this.#state = seed >>> 0;
  }
  next() {
    this.#state = this.#state + 1831565813 >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ t >>> 15, t | 1);
    t ^= t + Math.imul(t ^ t >>> 7, t | 61);
    return ((t ^ t >>> 14) >>> 0) / 4294967296;
  }
  below(n) {
    return Math.floor(this.next() * n);
  }
  /** A UUID-shaped id (version 4 layout), from the sequence. */
  id() {
    let hex = "";
    for (let i = 0; i < 4; i++) hex += (Math.floor(this.next() * 2 ** 32) >>> 0).toString(16).padStart(8, "0");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
};
var WORDS = "the a of to and in for on with at by from is are was be this that it as or not an board rail clock link phy spindle polisher mirror laser fringe flatness alignment tolerance measurement calibration firmware register strap reset sequence voltage current thermal drift noise jitter compliance layout trace impedance via ground plane shield motor encoder feedback loop gain phase margin bandwidth filter sample rate buffer vendor datasheet revision errata workaround test fixture bench result log note review interferometer beam splitter reference surface wavefront lens aperture stage axis torque bearing coolant slurry pad pressure dwell tool path pass micron nanometre schedule risk decision owner action open closed pending verified failed passed".split(" ");
function sentence(sequence, words) {
  const parts = [];
  for (let i = 0; i < words; i++) parts.push(WORDS[sequence.below(WORDS.length)]);
  const text2 = parts.join(" ");
  return `${text2.charAt(0).toUpperCase()}${text2.slice(1)}.`;
}
function paragraph(sequence, targetChars) {
  let text2 = "";
  while (text2.length < targetChars) text2 += `${text2 ? " " : ""}${sentence(sequence, 8 + sequence.below(14))}`;
  return text2;
}
function projectRoot(project) {
  const roots = project.ingest_roots;
  const first = Array.isArray(roots) ? roots[0] : void 0;
  return typeof first?.subpath === "string" && first.subpath !== "" ? first.subpath : project.id;
}
var CHUNKS_PER_DOCUMENT = 16;
var CHUNK_CHARS = 1200;
var CHUNKS_PER_INTERACTION = 8;
var SIZE_CHECK_EVERY = 256;
var EPOCH_MS = Date.parse("2026-01-01T00:00:00Z");
function generateSeedRows(dbPath, targetBytes, projects, seedNumber = 20260101) {
  return ownWrite(dbPath, "writing generated seed rows into", () => writeRows(dbPath, targetBytes, projects, seedNumber));
}
function writeRows(dbPath, targetBytes, projects, seedNumber) {
  const db = openDatabase(dbPath, { timeoutMs: 1e4 });
  try {
    const sequence = new Sequence(seedNumber);
    const pageSize = db.pragma("page_size", { simple: true });
    const size = () => db.pragma("page_count", { simple: true }) * pageSize;
    const doc = db.prepare("INSERT INTO source_documents (id, file_path, file_hash, title, doc_type, tags, ingested_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    const chunk = db.prepare("INSERT INTO source_chunks (id, document_id, chunk_index, content, heading_path, char_count, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    const interaction = db.prepare("INSERT INTO interactions (id, prompt, response, client, session_id, project, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
    const names = projects.length > 0 ? projects : [{ id: "generated" }];
    let documents = 0;
    let chunks = 0;
    let interactions = 0;
    db.transaction(() => {
      while (size() < targetBytes) {
        for (let batch = 0; batch < SIZE_CHECK_EVERY / CHUNKS_PER_DOCUMENT; batch++) {
          const project = names[documents % names.length];
          const at = new Date(EPOCH_MS + documents * 6e4).toISOString();
          const title = sentence(sequence, 3 + sequence.below(4)).slice(0, -1);
          const docId = sequence.id();
          const contents = [];
          for (let index = 0; index < CHUNKS_PER_DOCUMENT; index++) contents.push(paragraph(sequence, CHUNK_CHARS - 200 + sequence.below(400)));
          const filePath = `${projectRoot(project)}/generated/doc-${String(documents).padStart(7, "0")}.md`;
          doc.run(docId, filePath, createHash("sha256").update(contents.join("\n")).digest("hex"), title, "markdown", JSON.stringify([project.id, "generated"]), at, at);
          contents.forEach((content, index) => {
            chunk.run(sequence.id(), docId, index, content, `${title} > Part ${index + 1}`, content.length, JSON.stringify({ project: project.id }), at);
            chunks++;
            if (chunks % CHUNKS_PER_INTERACTION === 0) {
              interaction.run(sequence.id(), sentence(sequence, 10), paragraph(sequence, 400), "generator", `session-${documents % 97}`, project.id, at);
              interactions++;
            }
          });
          documents++;
        }
      }
    })();
    return { documents, chunks, interactions, bytes: size() };
  } finally {
    db.close();
  }
}

// src/inputs/history.ts
import { basename as basename2, dirname as dirname5, extname as extname2, join as join4, resolve as resolve5 } from "node:path";

// src/sqlite/header.ts
var SQLITE_HEADER_BYTES = 100;
var SQLITE_MAGIC = Buffer.from("SQLite format 3\0", "latin1");
function hasSqliteMagic(head) {
  return head.length >= SQLITE_MAGIC.length && head.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC);
}
function firstBytes(head) {
  return head.subarray(0, 16).toString("hex").replace(/(..)/g, "$1 ").trim();
}
function judgeSqliteHeader(head, fileBytes) {
  if (head.length < SQLITE_HEADER_BYTES) {
    return { ok: false, problem: fileBytes === 0 ? "it is empty: not an SQLite database" : `it is ${fileBytes} bytes, too short for an SQLite header (${SQLITE_HEADER_BYTES} bytes)` };
  }
  if (!hasSqliteMagic(head)) {
    const zeros = head.subarray(0, SQLITE_HEADER_BYTES).every((byte) => byte === 0);
    return { ok: false, problem: zeros ? `its first ${SQLITE_HEADER_BYTES} bytes are all zeros: not an SQLite database (a hole, or never written)` : `it does not start with "SQLite format 3\\0" (first bytes: ${firstBytes(head)}): not an SQLite database` };
  }
  const raw = head.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & pageSize - 1) !== 0) return { ok: false, problem: `its header gives a page size of ${raw}, which SQLite never writes: a damaged header` };
  if (fileBytes % pageSize !== 0) return { ok: false, problem: `${fileBytes} bytes is not a whole number of ${pageSize}-byte pages: cut short or padded` };
  const counted = head.readUInt32BE(28);
  const countValid = counted !== 0 && head.readUInt32BE(24) === head.readUInt32BE(92);
  const pageCount = countValid ? counted : null;
  if (pageCount !== null && pageCount * pageSize > fileBytes) {
    return { ok: false, problem: `its header counts ${pageCount} pages of ${pageSize} bytes (${pageCount * pageSize} bytes) but the file has ${fileBytes}: truncated` };
  }
  return { ok: true, header: { pageSize, pageCount } };
}

// src/history/store.ts
import { accessSync as accessSync3, closeSync as closeSync3, constants as constants4, lstatSync as lstatSync4, mkdirSync, openSync as openSync3, readSync as readSync2, writeFileSync as writeFileSync2 } from "node:fs";
import { dirname as dirname4 } from "node:path";

// src/history/private-copy.ts
import { closeSync as closeSync2, constants as constants3, fstatSync, lstatSync as lstatSync3, mkdtempSync, openSync as openSync2, readSync, rmSync as rmSync2, writeSync } from "node:fs";
import { tmpdir as tmpdir2 } from "node:os";
import { join as join3 } from "node:path";
var HISTORY_COPY_LIMIT_BYTES = 256 * 1024 * 1024;
var COPY_TRIES = 3;
var CHUNK_BYTES = 1024 * 1024;
var MACHINE_ERRNOS = /* @__PURE__ */ new Set(["EIO", "ENOMEM", "EMFILE", "ENFILE"]);
function errno(error) {
  return error?.code;
}
function signature(path) {
  try {
    const s = lstatSync3(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch (error) {
    if (errno(error) === "ENOENT") return "none";
    throw error;
  }
}
function scratchFailure(name, path, place, error) {
  return new InfrastructureError(`${name}: ${path} is read from a private copy (this user cannot write it or its folder), which could not be made in ${place}: ${errorMessage(error)} (the temp folder: set TMPDIR to another)`);
}
function tooLarge(name, path) {
  return new UsageError(`${name}: ${path} is larger than the ${HISTORY_COPY_LIMIT_BYTES / 1024 / 1024} MiB a history this user cannot write is copied up to, to be read; copy it somewhere writable and read that`);
}
function copyFile(source, destination, budget, history) {
  const { name } = history;
  let input;
  try {
    input = openSync2(source, constants3.O_RDONLY | constants3.O_NOFOLLOW | constants3.O_NONBLOCK);
  } catch (error) {
    if (errno(error) === "ELOOP") throw new UsageError(`${name}: ${source} is a symlink; refused, not followed`);
    throw readFailure(source, name, error);
  }
  try {
    const stats = fstatSync(input);
    if (!stats.isFile()) throw new UsageError(`${name}: ${source} is not a regular file; refused`);
    if (stats.size > budget) throw tooLarge(name, history.path);
    let output;
    try {
      output = openSync2(destination, "wx", 384);
    } catch (error) {
      throw scratchFailure(name, history.path, destination, error);
    }
    try {
      const chunk = Buffer.alloc(CHUNK_BYTES);
      let copied = 0;
      for (; ; ) {
        let read;
        try {
          read = readSync(input, chunk, 0, chunk.length, copied);
        } catch (error) {
          throw readFailure(source, name, error);
        }
        if (read === 0) return copied;
        copied += read;
        if (copied > budget) throw tooLarge(name, history.path);
        try {
          for (let written = 0; written < read; ) written += writeSync(output, chunk, written, read - written);
        } catch (error) {
          throw scratchFailure(name, history.path, destination, error);
        }
      }
    } finally {
      closeSync2(output);
    }
  } finally {
    closeSync2(input);
  }
}
function readFailure(source, name, error) {
  const message = `${name}: cannot read ${source}: ${errorMessage(error)}`;
  return MACHINE_ERRNOS.has(errno(error) ?? "") ? new InfrastructureError(message) : new UsageError(message);
}
function copyOnce(path, copy, name) {
  const wal = `${path}-wal`;
  const before = [signature(path), signature(wal)];
  rmSync2(copy, { force: true });
  rmSync2(`${copy}-wal`, { force: true });
  const unchanged = () => signature(path) === before[0] && signature(wal) === before[1];
  try {
    const copied = copyFile(path, copy, HISTORY_COPY_LIMIT_BYTES, { name, path });
    if (before[1] !== "none") copyFile(wal, `${copy}-wal`, HISTORY_COPY_LIMIT_BYTES - copied, { name, path });
  } catch (error) {
    if (!unchanged()) return false;
    throw error;
  }
  return unchanged();
}
function privateCopy(path, name) {
  let dir;
  try {
    dir = mkdtempSync(join3(tmpdir2(), "atocore-drill-history-copy-"));
  } catch (error) {
    throw scratchFailure(name, path, tmpdir2(), error);
  }
  const dispose = () => rmSync2(dir, { recursive: true, force: true });
  const copy = join3(dir, "history.sqlite");
  try {
    for (let attempt = 1; attempt <= COPY_TRIES; attempt++) {
      if (copyOnce(path, copy, name)) return { path: copy, dispose };
    }
  } catch (error) {
    dispose();
    throw error;
  }
  dispose();
  throw new InfrastructureError(`${name}: ${path} changed each of the ${COPY_TRIES} times it was copied to be read (another process is writing it); try again`);
}

// src/history/store.ts
var HISTORY_SCHEMA_VERSION = 1;
var BUSY_TIMEOUT_MS = 15e3;
var HISTORY_READ_LIMIT = 1e4;
var SCHEMA = `
CREATE TABLE IF NOT EXISTS history_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  target TEXT NOT NULL,
  verdict TEXT NOT NULL,
  backup_stamp TEXT,
  rto_ms INTEGER,
  restore_ms INTEGER,
  rpo_s INTEGER,
  started_at TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  failing_checks TEXT NOT NULL,
  recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_target ON runs (kind, target, id);
CREATE TABLE IF NOT EXISTS run_steps (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  step TEXT NOT NULL,
  status TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (run_id, position)
);
CREATE TABLE IF NOT EXISTS run_sizes (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  PRIMARY KEY (run_id, name)
);
`;
function code3(error) {
  return error?.code;
}
function ownStats(path) {
  try {
    return lstatSync4(path);
  } catch (error) {
    if (code3(error) === "ENOENT") return null;
    throw new UsageError(`${path}: ${errorMessage(error)}`);
  }
}
function headerOf(path) {
  const fd = openSync3(path, constants4.O_RDONLY | constants4.O_NOFOLLOW | constants4.O_NONBLOCK);
  try {
    const header = Buffer.alloc(SQLITE_MAGIC.length);
    const read = readSync2(fd, header, 0, header.length, 0);
    return header.subarray(0, read);
  } finally {
    closeSync3(fd);
  }
}
function checkFileShape(path, name, use) {
  const stats = ownStats(path);
  if (stats?.isSymbolicLink()) throw new UsageError(`${name}: ${path} is a symlink; give the history file itself`);
  if (stats && !stats.isFile()) throw new UsageError(`${name}: ${path} is ${describeFileKind(stats)}, not an atocore-drill history file`);
  if (stats) {
    try {
      accessSync3(path, use === "write" ? constants4.R_OK | constants4.W_OK : constants4.R_OK);
    } catch (error) {
      throw new UsageError(`${name}: cannot ${use} ${path}: ${errorMessage(error)}`);
    }
  }
  if (use === "write") {
    try {
      checkOutputPlace(path, name, { writeThrough: false });
    } catch (error) {
      const message = errorMessage(error);
      throw new UsageError(message.includes(path) ? message : `${message} (for ${path})`);
    }
  }
  if (!stats) return "missing";
  if (stats.size === 0) return "missing";
  let header;
  try {
    header = headerOf(path);
  } catch (error) {
    throw new UsageError(`${name}: cannot read ${path}: ${errorMessage(error)}`);
  }
  if (!header.equals(SQLITE_MAGIC)) throw new UsageError(`${name}: ${path} is not an SQLite file (not an atocore-drill history); move it away or name another file`);
  return "sqlite";
}
function storedVersion(db, path, name) {
  const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((row2) => row2.name));
  if (!tables.has("history_schema")) {
    if (tables.size === 0) return null;
    throw new UsageError(`${name}: ${path} is an SQLite database but not an atocore-drill history (no history_schema table); refusing to add tables to it`);
  }
  const row = db.prepare("SELECT max(version) AS version, count(*) AS rows FROM history_schema").get();
  if (row?.rows === 0 && tables.size === 1) return null;
  const version = row?.version;
  if (typeof version !== "number" && typeof version !== "bigint") throw new UsageError(`${name}: ${path} has no schema version; it was not written by atocore-drill`);
  return Number(version);
}
function refuseNewer(version, path, name) {
  if (version !== null && version > HISTORY_SCHEMA_VERSION) {
    throw new UsageError(`${name}: ${path} has history schema version ${version}; this atocore-drill reads up to ${HISTORY_SCHEMA_VERSION}: use a newer atocore-drill (or another file)`);
  }
}
var MACHINE_SQLITE_CODES = /* @__PURE__ */ new Set(["SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_FULL", "SQLITE_IOERR", "SQLITE_NOMEM", "SQLITE_PROTOCOL"]);
function machineTrouble(error) {
  const sqliteCode = String(error?.code ?? "");
  const base = [...MACHINE_SQLITE_CODES].find((c) => sqliteCode === c || sqliteCode.startsWith(`${c}_`));
  if (base === void 0) return null;
  if (base === "SQLITE_BUSY" || base === "SQLITE_LOCKED") return `another process held its lock longer than the ${BUSY_TIMEOUT_MS / 1e3} s a run waits for it`;
  if (base === "SQLITE_FULL") return "its disk is full";
  return "its disk or the machine is failing";
}
function opened(path, name, doing, work) {
  try {
    return work();
  } catch (error) {
    if (error instanceof DrillError) throw error;
    const trouble = machineTrouble(error);
    const failed = `${name}: ${path} could not be ${doing === "write" ? "written" : "read"}: ${errorMessage(error)}`;
    if (trouble !== null) throw new InfrastructureError(`${failed} (${trouble})`, { cause: error });
    if (doing === "write") throw new UsageError(failed, { cause: error });
    throw new UsageError(`${name}: ${path} cannot be read as an atocore-drill history: ${errorMessage(error)}`, { cause: error });
  }
}
function checkHistoryFile(path, name) {
  if (checkFileShape(path, name, "write") === "missing") return;
  opened(path, name, "read", () => {
    const reader = openReader(path, name);
    try {
      refuseNewer(storedVersion(reader.db, path, name), path, name);
    } finally {
      reader.close();
    }
  });
}
function openReader(path, name) {
  if (readableInPlace(path)) return queryOnly(openDatabase(path, { timeoutMs: BUSY_TIMEOUT_MS }), () => void 0);
  const copy = privateCopy(path, name);
  try {
    return queryOnly(openDatabase(copy.path, { timeoutMs: BUSY_TIMEOUT_MS }), copy.dispose);
  } catch (error) {
    copy.dispose();
    throw error;
  }
}
function queryOnly(db, release) {
  try {
    db.pragma("query_only = ON");
  } catch (error) {
    db.close();
    release();
    throw error;
  }
  return {
    db,
    close() {
      try {
        if (db.open) db.close();
      } finally {
        release();
      }
    }
  };
}
function readableInPlace(path) {
  try {
    accessSync3(path, constants4.W_OK);
    accessSync3(dirname4(path), constants4.W_OK);
    return !isSharedDirectory(lstatSync4(dirname4(path)));
  } catch {
    return false;
  }
}
function numberOrNull(value) {
  const number2 = typeof value === "bigint" ? Number(value) : value;
  return typeof number2 === "number" && Number.isFinite(number2) ? number2 : null;
}
function parseList(text2) {
  try {
    const value = JSON.parse(text2);
    return Array.isArray(value) ? value.filter((item) => typeof item === "string") : [];
  } catch {
    return [];
  }
}
var HistoryStore = class _HistoryStore {
  path;
  #db;
  /** how the entry names the file, for messages */
  #name;
  /** after the connection closes: removes what it was opened on when that was a private copy */
  #release;
  constructor(path, db, name, release = () => void 0) {
    this.path = path;
    this.#db = db;
    this.#name = name;
    this.#release = release;
  }
  /**
   * Opens the history for appending, creating it (and its folder) when it does not exist yet.
   * Every refusal of checkHistoryFile applies again here: the file may have changed since.
   * Nothing is written until append: the layout is made in the run's own transaction.
   */
  static openForWriting(path, name) {
    const shape = checkFileShape(path, name, "write");
    return opened(path, name, "write", () => {
      const db = shape === "missing" ? createDatabase(path) : openDatabase(path, { timeoutMs: BUSY_TIMEOUT_MS });
      try {
        db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
        refuseNewer(storedVersion(db, path, name), path, name);
        db.pragma("journal_mode = WAL");
        db.pragma("foreign_keys = ON");
        return new _HistoryStore(path, db, name);
      } catch (error) {
        db.close();
        throw error;
      }
    });
  }
  /**
   * Opens a history to read it (a chart, the `history` command, the regression check); null
   * when nothing was recorded there yet (no file, an empty one). Refuses what checkHistoryFile refuses.
   */
  static openForReading(path, name) {
    if (checkFileShape(path, name, "read") === "missing") return null;
    return opened(path, name, "read", () => {
      const reader = openReader(path, name);
      try {
        const version = storedVersion(reader.db, path, name);
        refuseNewer(version, path, name);
        if (version === null) {
          reader.close();
          return null;
        }
        return new _HistoryStore(path, reader.db, name, () => reader.close());
      } catch (error) {
        reader.close();
        throw error;
      }
    });
  }
  /**
   * Appends one run, whole or not at all: one IMMEDIATE transaction, so a run waits for the
   * write lock once, at most BUSY_TIMEOUT_MS (a new history's layout is made in it too).
   */
  append(run) {
    return opened(this.path, this.#name, "write", () => this.#append(run));
  }
  #append(run) {
    const db = this.#db;
    const { path } = this;
    const name = this.#name;
    return db.transaction(() => {
      refuseNewer(storedVersion(db, path, name), path, name);
      db.exec(SCHEMA);
      if (!db.prepare("SELECT 1 FROM history_schema").get()) db.prepare("INSERT INTO history_schema (version) VALUES (?)").run(HISTORY_SCHEMA_VERSION);
      const result = db.prepare(
        `INSERT INTO runs (kind, target, verdict, backup_stamp, rto_ms, restore_ms, rpo_s, started_at, duration_ms, failing_checks, recorded_at)
           VALUES (@kind, @target, @verdict, @backup_stamp, @rto_ms, @restore_ms, @rpo_s, @started_at, @duration_ms, @failing_checks, @recorded_at)`
      ).run({
        kind: run.kind,
        target: run.target,
        verdict: run.verdict,
        backup_stamp: run.backup_stamp,
        rto_ms: run.rto_ms,
        restore_ms: run.restore_ms,
        rpo_s: run.rpo_s,
        started_at: run.started_at,
        duration_ms: run.duration_ms,
        failing_checks: JSON.stringify(run.failing_checks),
        recorded_at: (/* @__PURE__ */ new Date()).toISOString()
      });
      const id = Number(result.lastInsertRowid);
      const step2 = db.prepare("INSERT INTO run_steps (run_id, position, step, status, duration_ms) VALUES (?, ?, ?, ?, ?)");
      run.steps.forEach((s, position) => step2.run(id, position, s.id, s.status, s.duration_ms));
      const size = db.prepare("INSERT OR REPLACE INTO run_sizes (run_id, name, bytes) VALUES (?, ?, ?)");
      for (const [name2, bytes] of Object.entries(run.sizes)) size.run(id, name2, bytes);
      return id;
    }).immediate();
  }
  /** The newest `limit` runs (all kinds and targets unless filtered), oldest first. */
  runs(filter = {}) {
    return opened(this.path, this.#name, "read", () => this.#runs(filter));
  }
  #runs(filter) {
    const where = [];
    const params = { limit: Math.min(filter.limit ?? HISTORY_READ_LIMIT, HISTORY_READ_LIMIT) };
    if (filter.kind !== void 0) {
      where.push("kind = @kind");
      params.kind = filter.kind;
    }
    if (filter.target !== void 0) {
      where.push("target = @target");
      params.target = filter.target;
    }
    const rows = this.#db.prepare(`SELECT * FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT @limit`).all(params);
    rows.reverse();
    const steps = this.#db.prepare("SELECT step, status, duration_ms FROM run_steps WHERE run_id = ? ORDER BY position");
    const sizes = this.#db.prepare("SELECT name, bytes FROM run_sizes WHERE run_id = ? ORDER BY name");
    return rows.map((row) => ({
      id: Number(row.id),
      kind: String(row.kind ?? ""),
      target: String(row.target ?? ""),
      verdict: String(row.verdict ?? ""),
      backup_stamp: typeof row.backup_stamp === "string" ? row.backup_stamp : null,
      rto_ms: numberOrNull(row.rto_ms),
      restore_ms: numberOrNull(row.restore_ms),
      rpo_s: numberOrNull(row.rpo_s),
      started_at: String(row.started_at ?? ""),
      duration_ms: numberOrNull(row.duration_ms) ?? 0,
      failing_checks: typeof row.failing_checks === "string" ? parseList(row.failing_checks) : [],
      steps: steps.all(row.id).map((s) => ({ id: String(s.step), status: String(s.status), duration_ms: numberOrNull(s.duration_ms) ?? 0 })),
      sizes: Object.fromEntries(sizes.all(row.id).flatMap((s) => numberOrNull(s.bytes) === null ? [] : [[String(s.name), numberOrNull(s.bytes)]]))
    }));
  }
  close() {
    try {
      if (this.#db.open) this.#db.close();
    } finally {
      this.#release();
    }
  }
  [Symbol.dispose]() {
    this.close();
  }
};
function createDatabase(path) {
  mkdirSync(dirname4(path), { recursive: true });
  try {
    writeFileSync2(path, "", { flag: "wx", mode: 420 });
  } catch (error) {
    if (code3(error) !== "EEXIST") throw error;
  }
  return openDatabase(path, { timeoutMs: BUSY_TIMEOUT_MS });
}

// src/inputs/history.ts
function chartBeside(reportJson) {
  const name = basename2(reportJson, extname2(reportJson)) || "report";
  return join4(dirname5(reportJson), `${name}.history.svg`);
}
function historyInputs(raw, base) {
  if (raw.history === void 0 || raw.history.trim() === "") {
    if (raw.chart !== void 0) throw new FieldError("chart", (n) => `${n.one("chart")} draws the run history: it needs ${n.one("history")} FILE`);
    return { history: null, chart: null };
  }
  if (raw.history === STDOUT_PATH) throw new FieldError("history", "the history is a file (SQLite) the run appends to: name one");
  const history = resolve5(base, raw.history);
  forField("history", (name) => checkHistoryFile(history, name));
  const asked = raw.chart ?? (raw.reportJson !== void 0 && raw.reportJson !== STDOUT_PATH && raw.reportJson.trim() !== "" ? chartBeside(resolve5(base, raw.reportJson)) : void 0);
  if (asked === void 0) return { history, chart: null };
  if (asked === STDOUT_PATH || asked.trim() === "") throw new FieldError("chart", "the chart is written to a file: name one (an SVG image)");
  const chart = resolve5(base, asked);
  forField(raw.chart !== void 0 ? "chart" : "reportJson", (name) => checkOutputPlace(chart, name, { writeThrough: true }));
  return { history, chart };
}
function historyOutputs(inputs) {
  return [
    ["history", inputs.history],
    ["chart", inputs.chart]
  ];
}
function budgetInputs(raw) {
  return {
    rtoBudgetMs: raw.rtoBudget === void 0 ? null : duration("rtoBudget", raw.rtoBudget),
    rpoBudgetMs: raw.rpo === void 0 ? null : duration("rpo", raw.rpo)
  };
}

// src/inputs/drill.ts
var ATOCORE_ONLY = ["runtime", "image", "fromImage", "command", "backupCli", "includeChroma", "seed", "seedSize", "faults"];
function profileOf(raw, base) {
  const spec = resolveProfileSpec(raw.profile?.trim() || "atocore", base);
  if (spec.kind === "atocore") {
    if ((raw.profileVars ?? []).length > 0) throw new FieldError("profileVars", (n) => `${n.one("profileVars")} sets variables of a profile file; the AtoCore profile has none`);
    return spec;
  }
  for (const field of ATOCORE_ONLY) {
    const value = raw[field];
    if (value !== void 0 && value !== false && !(Array.isArray(value) && value.length === 0)) {
      throw new FieldError(field, (n) => `${n.one(field)} is for the AtoCore drill; ${n.one("profile")} ${raw.profile} runs the profile's own commands on this machine`);
    }
  }
  return spec;
}
function runtimeOf(raw) {
  const runtime = raw.runtime ?? (raw.image ? "container" : "process");
  if (runtime !== "process" && runtime !== "container") throw new FieldError("runtime", `"${runtime}" is not one of process, container`);
  if (runtime === "process" && raw.image) throw new FieldError("image", (n) => `${n.one("image")} needs ${n.one("runtime")} container (the process runtime runs no image)`);
  if (raw.fromImage && !raw.image) throw new FieldError("fromImage", (n) => `${n.one("fromImage")} needs ${n.one("image")} (the rollback drill goes from one image to the other and back)`);
  if (runtime === "container" && !raw.image) throw new FieldError("runtime", (n) => `${n.one("runtime")} container needs ${n.one("image")} IMG`);
  if (raw.command === void 0 !== (raw.backupCli === void 0)) {
    throw new FieldError(raw.command === void 0 ? "command" : "backupCli", (n) => `${n.both("command", "backupCli")} go together: how to start your AtoCore and how to invoke its backup module`);
  }
  if (runtime === "container" && raw.command !== void 0) {
    throw new FieldError("command", (n) => `${n.one("command")} runs AtoCore as a local process; it cannot go with ${n.one("image")}, which runs the image in a container`);
  }
  return runtime;
}
function faultsOf(raw) {
  const faults = [...raw.faults ?? []];
  for (const fault of faults) {
    if (!isStandinFault(fault)) throw new FieldError("faults", `"${fault}" is not a stand-in fault (known: ${STANDIN_FAULTS.join(", ")})`);
  }
  if (faults.length > 0 && raw.command !== void 0) {
    throw new FieldError("faults", (n) => `${n.one("faults")} switches faults of the AtoCore stand-in; your AtoCore (${n.one("command")}) has none`);
  }
  return faults;
}
function seedSizeOf(value) {
  if (value === void 0) return null;
  const bytes = parseSeedSize(value);
  if (bytes === null) throw new FieldError("seedSize", `"${value}" is not a size (a number and kB, MB, GB, KiB, MiB or GiB, e.g. 100MB, 1GB)`);
  if (bytes > MAX_SEED_BYTES) throw new FieldError("seedSize", `"${value}" is more than the ${MAX_SEED_BYTES / 1024 ** 3} GiB the generator writes`);
  return bytes;
}
function atocoreDrillsOf(raw) {
  const drills = drillNames("drills", raw.drills, ["restore"]);
  if (drills.includes("offsite")) throw new FieldError("drills", `offsite: ${ATOCORE_NO_OFFSITE} (AtoCore's drills: ${ATOCORE_DRILLS.join(", ")})`);
  if (raw.fromImage && !drills.includes("restore")) throw new FieldError("drills", (n) => `${n.one("fromImage")} is a restore drill (back up, migrate, roll back): ${n.one("drills")} must name restore`);
  return drills;
}
function drillInputs(raw, names, base = process.cwd()) {
  return namedForSync(names, () => {
    const profile = profileOf(raw, base);
    const runtime = runtimeOf(raw);
    const faults = faultsOf(raw);
    const drills = profile.kind === "atocore" ? atocoreDrillsOf(raw) : raw.drills === void 0 ? null : drillNames("drills", raw.drills, []);
    const kept = historyInputs(raw, base);
    return {
      runtime,
      image: raw.image ?? null,
      fromImage: raw.fromImage ?? null,
      command: raw.command === void 0 ? null : commandLine("command", raw.command),
      backupCli: raw.backupCli === void 0 ? null : commandLine("backupCli", raw.backupCli),
      includeChroma: raw.includeChroma === true,
      seedDir: raw.seed === void 0 ? null : existingDirectory("seed", raw.seed, base),
      seedSizeBytes: seedSizeOf(raw.seedSize),
      faults,
      keep: raw.keep === true,
      timeoutMs: duration("timeout", raw.timeout),
      timeoutName: names.one("timeout"),
      workDir: raw.workDir === void 0 ? null : workDirectory("workDir", raw.workDir, base),
      ...reportPaths(raw, historyOutputs(kept)),
      failOn: failOn(raw.failOn),
      drills,
      profile,
      profileVars: parseProfileVars(raw.profileVars ?? []),
      ...kept,
      ...budgetInputs(raw)
    };
  });
}

// src/common/zoned-time.ts
function zonedTimeMs(text2) {
  return /(Z|[+-]\d{2}:?\d{2})$/.test(text2) ? Date.parse(text2) : Number.NaN;
}

// src/inputs/validate.ts
import { resolve as resolve6 } from "node:path";

// src/validation/ledger.ts
import { readFile as readFile2 } from "node:fs/promises";
var LEDGER_SCHEMA = "atocore-drill/ledger@1";
function emptyLedger() {
  return { schema: LEDGER_SCHEMA, updated_at: (/* @__PURE__ */ new Date(0)).toISOString(), source: "", oldest_stamp_seen: null, snapshots: {} };
}
var LEDGER_RULES = { writeThrough: false };
function checkLedgerPath(path, flag) {
  checkOutputPlace(path, flag, LEDGER_RULES);
}
async function loadLedger(path) {
  let text2;
  try {
    text2 = await readFile2(path, "utf8");
  } catch (error) {
    if (error.code === "ENOENT") return emptyLedger();
    throw new FieldError("ledger", `cannot read ${path}: ${errorMessage(error)}`);
  }
  let value;
  try {
    value = JSON.parse(text2);
  } catch (error) {
    throw new FieldError("ledger", `${path} is not JSON (${errorMessage(error)}); move it away to start a new ledger`);
  }
  const ledger = value;
  if (ledger === null || typeof ledger !== "object" || ledger.schema !== LEDGER_SCHEMA || typeof ledger.snapshots !== "object" || ledger.snapshots === null) {
    throw new FieldError("ledger", `${path} is not an atocore-drill ledger (schema ${LEDGER_SCHEMA}); move it away to start a new one`);
  }
  for (const [stamp, entry] of Object.entries(ledger.snapshots)) {
    if (!isSnapshotStamp(stamp) || typeof entry !== "object" || entry === null || typeof entry.files !== "object") {
      throw new FieldError("ledger", `${path} has a malformed entry for ${JSON.stringify(stamp)}`);
    }
  }
  return { schema: LEDGER_SCHEMA, updated_at: ledger.updated_at ?? "", source: ledger.source ?? "", oldest_stamp_seen: ledger.oldest_stamp_seen ?? null, snapshots: ledger.snapshots };
}
async function saveLedger(path, ledger) {
  await writeOutputFile(path, `${JSON.stringify(ledger, null, 2)}
`, LEDGER_RULES);
}
function selectForDeepCheck(stamps, ledger, max) {
  const ordered = [...stamps].sort((a, b) => {
    const ca = ledger.snapshots[a]?.deep_checked_at ?? null;
    const cb = ledger.snapshots[b]?.deep_checked_at ?? null;
    if (ca === null && cb === null) return a < b ? 1 : -1;
    if (ca === null) return -1;
    if (cb === null) return 1;
    if (ca !== cb) return ca < cb ? -1 : 1;
    return a < b ? 1 : -1;
  });
  return new Set(ordered.slice(0, max));
}
function checkImmutable(stamp, recorded, current, nowIso) {
  const id = "snapshot.immutable";
  if (!recorded) {
    const files = Object.fromEntries([...current].sort(([a], [b]) => a < b ? -1 : 1));
    return {
      result: check(id, "pass", `first seen: recorded the SHA-256 of ${current.size} file(s)`, { first_seen: nowIso, files: current.size }),
      entry: { first_seen: nowIso, files, deep_checked_at: null, deep_result: null, changed_since: null }
    };
  }
  const changed = [];
  const vanished = [];
  for (const [path, record] of Object.entries(recorded.files)) {
    const now = current.get(path);
    if (!now) vanished.push(path);
    else if (now.sha256 !== record.sha256) changed.push({ path, recorded: record.sha256, now: now.sha256, recorded_size: record.size, size: now.size });
  }
  const appeared = [...current.keys()].filter((path) => !(path in recorded.files)).sort();
  const evidence = { first_seen: recorded.first_seen, files: current.size, changed, vanished, appeared };
  if (changed.length + vanished.length + appeared.length > 0) {
    const entry = { ...recorded, changed_since: recorded.changed_since ?? nowIso };
    const parts = [];
    if (changed.length > 0) parts.push(`${changed.length} file(s) changed: ${changed.slice(0, 5).map((c) => c.path).join(", ")}`);
    if (vanished.length > 0) parts.push(`${vanished.length} vanished: ${vanished.slice(0, 5).join(", ")}`);
    if (appeared.length > 0) parts.push(`${appeared.length} appeared: ${appeared.slice(0, 5).join(", ")}`);
    return { result: check(id, "fail", `changed since first seen at ${recorded.first_seen} (bit rot or a write into a snapshot): ${parts.join("; ")}`, evidence), entry };
  }
  return { result: check(id, "pass", `all ${current.size} file(s) unchanged since ${recorded.first_seen}`, evidence), entry: { ...recorded } };
}

// src/validation/jellycore/layout.ts
var BACKUP_NAME = /^(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})$/;
var NANOCLAW_DB = "nanoclaw.db";
var ORACLE_DB = "oracle.db";
var KNOWLEDGE_TAR = "knowledge.tar.gz";
var AUTH_TAR = "auth.tar.gz";
var CHROMA_DIR = "chromadb";
var COLLECTIONS_FILE = "chromadb-collections.json";
var IPC_SECRET = ".ipc-secret";
var CHROMA_CATALOGUE = `${CHROMA_DIR}/chroma.sqlite3`;
var WRITTEN_BY_EACH_RUN = [NANOCLAW_DB, ORACLE_DB, KNOWLEDGE_TAR, AUTH_TAR, COLLECTIONS_FILE];
var LATEST_LINK = "latest";
var EXPECTED_NON_BACKUPS = /* @__PURE__ */ new Set([LATEST_LINK, "lost+found"]);
var JELLYCORE_RPO = "6h";
var JELLYCORE_RETENTION_MS = 7 * 864e5;
var JELLYCORE_DEFAULT_ROOT = "/backups";
var MAX_COLLECTIONS_BYTES = 8 * 1024 * 1024;
var UTC_ZONE = { kind: "utc" };
function describeZone(zone) {
  return zone.kind === "utc" ? "UTC" : zone.kind === "offset" ? `UTC${zone.text}` : zone.name;
}
function parseStampZone(text2, what) {
  const value = text2.trim();
  if (/^(utc|z|gmt)$/i.test(value)) return UTC_ZONE;
  const offset = /^([+-])(\d{2}):?(\d{2})$/.exec(value);
  if (offset) {
    const minutes = Number(offset[2]) * 60 + Number(offset[3]);
    if (Number(offset[2]) > 14 || Number(offset[3]) > 59) throw new UsageError(`${what}: "${text2}" is not a UTC offset (from -14:00 to +14:00)`);
    return { kind: "offset", minutes: offset[1] === "-" ? -minutes : minutes, text: `${offset[1]}${offset[2]}:${offset[3]}` };
  }
  if (/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(value)) {
    try {
      const name = new Intl.DateTimeFormat("en-US", { timeZone: value }).resolvedOptions().timeZone;
      return { kind: "iana", name };
    } catch {
    }
  }
  throw new UsageError(`${what}: "${text2}" is not a time zone (UTC, an offset such as +07:00, or an IANA name such as Asia/Bangkok)`);
}
function wallClockAsUtc(clock) {
  return Date.UTC(clock.year, clock.month - 1, clock.day, clock.hour, clock.minute, clock.second);
}
var formatters = /* @__PURE__ */ new Map();
function zoneClockAsUtc(ms, zone) {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
    formatters.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(ms)).filter((p) => p.type !== "literal").map((p) => [p.type, Number(p.value)]));
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
}
function backupTime(name, zone) {
  const m = BACKUP_NAME.exec(name);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number);
  const clock = { year, month, day, hour, minute, second };
  const asUtc = wallClockAsUtc(clock);
  const back = new Date(asUtc);
  if (back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return { ok: false, problem: "not a date and time" };
  if (zone.kind === "utc") return { ok: true, ms: asUtc, ambiguous: false };
  if (zone.kind === "offset") return { ok: true, ms: asUtc - zone.minutes * 6e4, ambiguous: false };
  const candidates = [...new Set([12, -12].map((hours) => asUtc - (zoneClockAsUtc(asUtc + hours * 36e5, zone.name) - (asUtc + hours * 36e5))))].filter((ms) => zoneClockAsUtc(ms, zone.name) === asUtc).sort((a, b) => a - b);
  if (candidates.length === 0) return { ok: false, problem: `a time ${zone.name} skipped (its clocks were put forward)` };
  return { ok: true, ms: candidates[0], ambiguous: candidates.length > 1 };
}

// src/inputs/validate.ts
var VALIDATE_DEFAULTS = {
  root: DEFAULT_REMOTE_ROOT,
  rpo: "24h",
  chromaRpo: "8d",
  sizeDrop: "50",
  timeout: "30m",
  connectTimeout: "20s",
  concurrency: "4"
};
function remoteRoot(value) {
  if (!value.startsWith("/")) throw new FieldError("root", `"${value}" is not an absolute path on the host`);
  return forField("root", (name) => checkRemotePath(value, name));
}
function sourceOf(raw, base, defaultRoot) {
  if (raw.dir === void 0 === (raw.ssh === void 0)) {
    throw new FieldError(raw.dir === void 0 ? "dir" : "ssh", (n) => `give exactly one of ${n.one("dir")} BACKUP_ROOT (this machine) and ${n.one("ssh")} [USER@]HOST[:PORT] (a remote host)`);
  }
  if (raw.dir !== void 0) {
    if (raw.root !== void 0) throw new FieldError("root", (n) => `${n.one("root")} goes with ${n.one("ssh")}; with ${n.one("dir")} the directory itself is the root`);
    return { kind: "dir", path: existingDirectory("dir", raw.dir, base) };
  }
  const ssh = raw.ssh;
  if (/:\//.test(ssh)) {
    const target = forField("ssh", (name) => parseOffhostTarget(ssh, name));
    if (target.kind === "ssh") {
      if (raw.root !== void 0) throw new FieldError("root", (n) => `the root is given twice: in ${n.one("ssh")} (HOST:/PATH) and in ${n.one("root")}`);
      return { kind: "ssh", address: target.address, root: remoteRoot(target.path) };
    }
  }
  return { kind: "ssh", address: forField("ssh", (name) => parseSshAddress(ssh, name)), root: remoteRoot(raw.root ?? defaultRoot) };
}
function offhostOf(value, base) {
  if (value === void 0) return null;
  const parsed = forField("offhost", (name) => parseOffhostTarget(value, name));
  return parsed.kind === "dir" ? { kind: "dir", path: existingDirectory("offhost", parsed.path, base) } : parsed;
}
function keyText(value) {
  const key = `${value.replace(/\r\n/g, "\n").trim()}
`;
  if (!/^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(key)) {
    throw new FieldError("identity", `not a private key (expected a "-----BEGIN … PRIVATE KEY-----" block; pass the secret that holds the key file's text)`);
  }
  return new SecretText(key);
}
function knownHostsOf(raw, base) {
  if (raw.knownHosts === void 0) throw new FieldError("knownHosts", (n) => `${n.one("knownHosts")} FILE is required with SSH: the host key is checked against it (OpenSSH format)`);
  if ("path" in raw.knownHosts) return { kind: "file", path: existingFile("knownHosts", raw.knownHosts.path, base) };
  if (raw.acceptNewHostKey === true) throw new FieldError("acceptNewHostKey", (n) => `${n.one("acceptNewHostKey")} needs ${n.one("knownHosts")} as a file to add the key to`);
  return { kind: "text", text: `${raw.knownHosts.text.replace(/\r\n/g, "\n").trim()}
` };
}
function identityOf(raw, context, names) {
  const fromEnv = context.env[SSH_KEY_ENV] !== void 0 && context.env[SSH_KEY_ENV] !== "";
  if (raw.identity !== void 0 && fromEnv) throw new FieldError("identity", (n) => `give the SSH key one way: ${n.one("identity")} FILE or $${SSH_KEY_ENV}, not both`);
  if (raw.identity !== void 0 && "file" in raw.identity) return { kind: "file", path: existingFile("identity", raw.identity.file, context.base) };
  if (raw.identity !== void 0) return { kind: "text", key: keyText(raw.identity.text), what: names.one("identity") };
  if (fromEnv) return { kind: "env", variable: SSH_KEY_ENV };
  throw new FieldError("identity", (n) => `no SSH key: give ${n.one("identity")} FILE or put the key in $${SSH_KEY_ENV}`);
}
function parseNow(value) {
  if (value === void 0) return null;
  const ms = zonedTimeMs(value.trim());
  if (Number.isNaN(ms)) throw new FieldError("now", `"${value}" is not an ISO-8601 time with a zone, e.g. 2026-04-08T07:00:00Z`);
  return ms;
}
var ATOCORE_ONLY2 = [
  ["stamps", "every JellyCore backup gets its checks"],
  ["deep", "every JellyCore backup's databases and tarballs are read in full, locally and over SSH"],
  ["maxDeep", "every JellyCore backup's databases and tarballs are read in full, locally and over SSH"],
  ["ledger", "JellyCore backups are not kept in a ledger"],
  ["atocoreValidator", "JellyCore has no validator of its own to run"],
  ["chromaRpo", "every JellyCore backup holds Chroma; the RPO covers it"],
  ["sizeDrop", "database sizes are not compared for JellyCore"],
  ["offhost", "JellyCore's off-site copy is an rclone remote, not compared here"]
];
var VALIDATE_PROFILES = ["atocore", "jellycore"];
function profileRules(raw) {
  const profile = profileName("profile", raw.profile, VALIDATE_PROFILES);
  if (profile === "atocore") {
    if (raw.stampTimezone !== void 0) throw new FieldError("stampTimezone", (n) => `${n.one("stampTimezone")} goes with ${n.one("profile")} jellycore: AtoCore's snapshot stamps are UTC by their own form`);
    return { profile, stampZone: UTC_ZONE };
  }
  for (const [key, why] of ATOCORE_ONLY2) {
    const value = raw[key];
    const given2 = Array.isArray(value) ? value.length > 0 : key === "deep" ? value === true : value !== void 0;
    const field = key === "stamps" ? "stamp" : key;
    if (given2) throw new FieldError(field, (n) => `${n.one(field)} is for AtoCore's snapshots; with ${n.one("profile")} jellycore it does not apply (${why})`);
  }
  const zone = raw.stampTimezone;
  return { profile, stampZone: zone === void 0 ? UTC_ZONE : forField("stampTimezone", (name) => parseStampZone(zone, name)) };
}
function rules(raw, context, names) {
  const { profile, stampZone } = profileRules(raw);
  const jellycore = profile === "jellycore";
  const source = sourceOf(raw, context.base, jellycore ? JELLYCORE_DEFAULT_ROOT : VALIDATE_DEFAULTS.root);
  const offhost = offhostOf(raw.offhost, context.base);
  const usesSsh = source.kind === "ssh" || offhost?.kind === "ssh";
  let knownHosts = null;
  let identity = null;
  if (usesSsh) {
    knownHosts = knownHostsOf(raw, context.base);
    identity = identityOf(raw, context, names);
  } else {
    for (const [field, given2] of [["knownHosts", raw.knownHosts], ["identity", raw.identity], ["acceptNewHostKey", raw.acceptNewHostKey]]) {
      if (given2 !== void 0) throw new FieldError(field, (n) => `${n.one(field)} is for SSH: it goes with ${n.one("ssh")} or an ${n.one("offhost")} HOST:PATH`);
    }
  }
  const stamps = (raw.stamps ?? []).map((stamp) => forField("stamp", (name) => parseSnapshotStamp(stamp, name)));
  const maxDeep = raw.maxDeep === void 0 ? null : wholeNumber("maxDeep", raw.maxDeep, 1, 1e5);
  const ledger = raw.ledger === void 0 ? null : resolve6(context.base, raw.ledger);
  if (ledger) forField("ledger", (name) => checkLedgerPath(ledger, name));
  if (maxDeep !== null && !ledger) throw new FieldError("maxDeep", (n) => `${n.one("maxDeep")} needs ${n.one("ledger")} FILE: the ledger remembers which snapshots were checked last`);
  const validatorText = raw.atocoreValidator ?? (source.kind === "ssh" && !jellycore ? DEFAULT_VALIDATOR_COMMAND : "none");
  const chromaRpo = raw.chromaRpo ?? VALIDATE_DEFAULTS.chromaRpo;
  const kept = historyInputs(raw, context.base);
  return {
    profile,
    stampZone,
    source,
    knownHosts,
    identity,
    acceptNewHostKey: raw.acceptNewHostKey === true,
    stamps,
    deep: raw.deep === true,
    maxDeep,
    ledger,
    validator: validatorText.trim() === "none" ? null : commandLine("atocoreValidator", validatorText),
    rpoMs: duration("rpo", raw.rpo ?? (jellycore ? JELLYCORE_RPO : VALIDATE_DEFAULTS.rpo)),
    chromaRpoMs: chromaRpo === "off" ? null : duration("chromaRpo", chromaRpo),
    sizeDropPercent: wholeNumber("sizeDrop", raw.sizeDrop ?? VALIDATE_DEFAULTS.sizeDrop, 1, 100),
    offhost,
    nowMs: parseNow(raw.now),
    timeoutMs: duration("timeout", raw.timeout ?? VALIDATE_DEFAULTS.timeout),
    timeoutName: names.one("timeout"),
    connectTimeoutMs: duration("connectTimeout", raw.connectTimeout ?? VALIDATE_DEFAULTS.connectTimeout),
    concurrency: wholeNumber("concurrency", raw.concurrency ?? VALIDATE_DEFAULTS.concurrency, 1, 8),
    ...reportPaths(raw, [["ledger", ledger], ...historyOutputs(kept)]),
    failOn: failOn(raw.failOn),
    ...kept
  };
}
function validateInputs(raw, names, context = { base: process.cwd(), env: process.env }) {
  return namedForSync(names, () => rules(raw, context, names));
}

// src/inputs/merge.ts
import { globSync, realpathSync as realpathSync2, statSync as statSync3 } from "node:fs";
import { isAbsolute as isAbsolute2, relative, resolve as resolve7, sep } from "node:path";

// src/merge/limits.ts
var REPORT_FILE_LIMITS = { files: 256, fileBytes: 16 * 1024 * 1024, totalBytes: 128 * 1024 * 1024 };

// src/inputs/merge.ts
function distinctReports(reports) {
  const seen = /* @__PURE__ */ new Set();
  const distinct = [];
  for (const report of reports) {
    let key = report.path;
    try {
      key = realpathSync2(report.path);
    } catch {
    }
    if (seen.has(key)) continue;
    seen.add(key);
    distinct.push(report);
  }
  if (distinct.length === 0) throw new FieldError("reports", (n) => `${n.one("reports")}: no report given: name the atocore-drill report files to merge`);
  if (distinct.length > REPORT_FILE_LIMITS.files) throw new FieldError("reports", `${distinct.length} reports, more than the ${REPORT_FILE_LIMITS.files} a merge takes`);
  return distinct;
}
function mergeInputs(raw, names) {
  return namedForSync(names, () => {
    const reports = distinctReports(raw.reports);
    return {
      reports,
      // the merged report written over one of the reports it merges would lose that target
      ...reportPaths(raw, reports.map((report) => ["reports", report.path])),
      failOn: failOn(raw.failOn)
    };
  });
}
var GLOB_CHARS = /[*?[\]{}]/;
function inside(root, path) {
  const rel = relative(root, path);
  return rel === "" || !rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute2(rel);
}
function confined(root, realRoot, path, pattern) {
  let real;
  try {
    real = realpathSync2(path);
  } catch {
    return path;
  }
  if (!inside(realRoot, real)) throw new FieldError("reports", `"${pattern}": ${relative(root, path)} leads outside the workspace (to ${real}); reports are read from the workspace only`);
  return path;
}
function reportPatterns(patterns, workspace2) {
  const root = resolve7(workspace2);
  let realRoot = root;
  try {
    realRoot = realpathSync2(root);
  } catch {
  }
  const found = [];
  for (const pattern of patterns) {
    const absolute = resolve7(root, pattern);
    if (!inside(root, absolute)) throw new FieldError("reports", `"${pattern}" is outside the workspace (${root}); reports are read from the workspace only`);
    const relativePattern = relative(root, absolute).split(sep).join("/");
    if (!GLOB_CHARS.test(pattern)) {
      let isDirectory = false;
      try {
        isDirectory = statSync3(absolute).isDirectory();
      } catch {
        throw new FieldError("reports", `${relativePattern} does not exist in the workspace`);
      }
      if (isDirectory) throw new FieldError("reports", `${relativePattern} is a directory; name the report files (e.g. ${relativePattern}/**/report.json)`);
      found.push({ path: confined(root, realRoot, absolute, pattern), shown: relativePattern });
      continue;
    }
    const matches = globSync(relativePattern, { cwd: root, withFileTypes: true }).filter((entry) => !entry.isDirectory()).map((entry) => resolve7(entry.parentPath, entry.name)).sort();
    if (matches.length === 0) throw new FieldError("reports", `"${pattern}" matches no file in the workspace`);
    if (found.length + matches.length > REPORT_FILE_LIMITS.files) throw new FieldError("reports", `"${pattern}" matches more than the ${REPORT_FILE_LIMITS.files} reports a merge takes`);
    for (const path of matches) found.push({ path: confined(root, realRoot, path, pattern), shown: relative(root, path).split(sep).join("/") });
  }
  return found;
}

// src/inputs/rehearse.ts
import { accessSync as accessSync4, constants as fsConstants2 } from "node:fs";
import { posix as posix2 } from "node:path";
var REHEARSE_DEFAULTS = {
  timeout: "30m",
  connectTimeout: "20s",
  /** AtoCore's read-only inputs on Dalidou (sources/{vault,drive}) */
  sourcesRoot: "/srv/storage/atocore/sources"
};
function sshAndRoot(raw) {
  const ssh = raw.ssh;
  if (ssh === void 0 || !/:\//.test(ssh)) return { ssh, root: raw.root };
  const target = forField("ssh", (name) => parseOffhostTarget(ssh, name));
  if (target.kind !== "ssh") return { ssh, root: raw.root };
  if (raw.root !== void 0) throw new FieldError("root", (n) => `the AtoCore root is given twice: in ${n.one("ssh")} (HOST:/PATH) and in ${n.one("root")}`);
  return { ssh: formatSshAddress(target.address), root: target.path };
}
function sourcesRootOf(value) {
  const path = value ?? REHEARSE_DEFAULTS.sourcesRoot;
  if (!path.startsWith("/")) throw new FieldError("sourcesRoot", `"${path}" is not an absolute path (the sources root as the deployment's AtoCore sees it)`);
  forField("sourcesRoot", (name) => checkRemotePath(path, name));
  return posix2.normalize(path).replace(/(.)\/+$/, "$1");
}
function readableDirectory(path) {
  try {
    accessSync4(path, fsConstants2.R_OK | fsConstants2.X_OK);
  } catch {
    throw new FieldError("dir", `${path} is not a directory this user can read`);
  }
}
function rules2(raw, context, names) {
  const { ssh, root } = sshAndRoot(raw);
  const reached = validateInputs(
    {
      dir: raw.dir,
      ssh,
      root,
      knownHosts: raw.knownHosts,
      identity: raw.identity,
      acceptNewHostKey: raw.acceptNewHostKey,
      stamps: raw.stamp === void 0 ? void 0 : [raw.stamp],
      connectTimeout: raw.connectTimeout ?? REHEARSE_DEFAULTS.connectTimeout,
      atocoreValidator: "none"
    },
    names,
    context
  );
  const service = drillInputs(
    { runtime: raw.runtime, image: raw.image, command: raw.command, backupCli: raw.backupCli, faults: raw.faults, workDir: raw.workDir, timeout: raw.timeout ?? REHEARSE_DEFAULTS.timeout },
    names,
    context.base
  );
  if (reached.source.kind === "dir") readableDirectory(reached.source.path);
  const kept = historyInputs(raw, context.base);
  return {
    source: reached.source,
    knownHosts: reached.knownHosts,
    identity: reached.identity,
    acceptNewHostKey: reached.acceptNewHostKey,
    stamp: reached.stamps[0] ?? null,
    connectTimeoutMs: reached.connectTimeoutMs,
    runtime: service.runtime,
    image: service.image,
    command: service.command,
    backupCli: service.backupCli,
    faults: service.faults,
    workDir: service.workDir,
    timeoutMs: service.timeoutMs,
    timeoutName: service.timeoutName,
    sourcesRoot: sourcesRootOf(raw.sourcesRoot),
    ...reportPaths(raw, historyOutputs(kept)),
    failOn: failOn(raw.failOn),
    ...kept,
    ...budgetInputs(raw)
  };
}
function rehearseInputs(raw, names, context = { base: process.cwd(), env: process.env }) {
  return namedForSync(names, () => rules2(raw, context, names));
}

// src/action/inputs.ts
var INPUT_OF = {
  ssh: `${Input.SshUser}/${Input.SshHost}/${Input.SshPort}`,
  identity: Input.SshKey,
  knownHosts: Input.SshKnownHosts,
  reportJson: Input.ReportDir,
  junit: Input.ReportDir,
  summary: Input.ReportDir,
  chart: Input.ReportDir
};
function inputOf(field) {
  return INPUT_OF[field] ?? kebab(field);
}
var ACTION_NAMES = {
  one: (field) => field === "ssh" ? `inputs ${inputOf(field)}` : `input ${inputOf(field)}`,
  both: (a, b) => `inputs ${inputOf(a)} and ${inputOf(b)}`
};
var DEFAULTS = {
  timeout: { drill: "15m" },
  reportDir: "atocore-drill-report",
  sshUser: "atocore",
  sshPort: 22
};
function text(name) {
  return getInput(name, { trimWhitespace: true });
}
function optional(name) {
  const value = text(name);
  return value === "" ? null : value;
}
function bool(name) {
  const value = text(name);
  if (value === "" || /^(false|False|FALSE)$/.test(value)) return false;
  if (/^(true|True|TRUE)$/.test(value)) return true;
  throw new UsageError(`input ${name}: "${value}" is not true or false`);
}
function oneOf(name, allowed, fallback) {
  const value = text(name) || fallback;
  if (!allowed.includes(value)) throw new UsageError(`input ${name}: "${value}" is not one of ${allowed.join(", ")}`);
  return value;
}
function list(name) {
  return text(name).split(/[\n,]/).map((item) => item.trim()).filter((item) => item !== "");
}
function workspace() {
  return process.env.GITHUB_WORKSPACE ?? process.cwd();
}
function workspacePath(value) {
  return resolve8(workspace(), value);
}
function reportDirectory() {
  const value = text(Input.ReportDir) || DEFAULTS.reportDir;
  const dir = workspacePath(value);
  if (existsSync2(dir) && !statSync4(dir).isDirectory()) throw new UsageError(`input ${Input.ReportDir}: ${dir} is a file, not a directory`);
  return dir;
}
function reportFiles(reportDir) {
  return { reportJson: join5(reportDir, ReportFile.Json), junit: join5(reportDir, ReportFile.Junit), summary: join5(reportDir, ReportFile.Summary) };
}
function given(name) {
  return optional(name) ?? void 0;
}
function drillInputs2(reportDir, failOn2) {
  const raw = {
    image: given(Input.Image),
    fromImage: given(Input.FromImage),
    command: given(Input.Command),
    backupCli: given(Input.BackupCli),
    // empty: on for the AtoCore drill; a profile file's service declares its own stores
    includeChroma: optional(Input.IncludeChroma) === null ? isAtoCoreProfile(given(Input.Profile)) ? true : void 0 : bool(Input.IncludeChroma),
    seed: given(Input.Seed),
    workDir: given(Input.WorkDir),
    faults: list(Input.Faults),
    drills: given(Input.Drills),
    profile: given(Input.Profile),
    // one per line: a value may hold commas
    profileVars: text(Input.ProfileVars).split("\n").map((line) => line.trim()).filter((line) => line !== ""),
    timeout: text(Input.Timeout) || DEFAULTS.timeout.drill,
    ...reportFiles(reportDir),
    failOn: failOn2,
    ...historyFields(reportDir),
    rtoBudget: given(Input.RtoBudget),
    rpo: given(Input.Rpo)
  };
  return drillInputs(raw, ACTION_NAMES, workspace());
}
function historyFields(reportDir) {
  const history = given(Input.History);
  return history === void 0 ? {} : { history, chart: join5(reportDir, ReportFile.Chart) };
}
function sshAddress(mode = "validate") {
  const host = optional(Input.SshHost);
  if (host === null) throw new UsageError(`input ${Input.SshHost} is required in mode ${mode}: the host that holds the backups (e.g. Dalidou)`);
  if (/[\s@]/.test(host)) throw new UsageError(`input ${Input.SshHost}: "${host}" is not a host name (give the user in ${Input.SshUser}, the port in ${Input.SshPort})`);
  const portText = text(Input.SshPort) || String(DEFAULTS.sshPort);
  if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) throw new UsageError(`input ${Input.SshPort}: "${portText}" is not a port number (1-65535)`);
  const user = text(Input.SshUser) || DEFAULTS.sshUser;
  if (/[\s@:]/.test(user)) throw new UsageError(`input ${Input.SshUser}: "${user}" is not a user name`);
  return `${user}@${host.includes(":") ? `[${host}]` : host}:${portText}`;
}
function knownHostsInput() {
  const current = getInput(Input.SshKnownHosts, { trimWhitespace: false }).trim();
  const old = getInput(Input.KnownHosts, { trimWhitespace: false }).trim();
  if (old === "") return current;
  if (current !== "") throw new UsageError(`inputs ${Input.SshKnownHosts} and ${Input.KnownHosts} are both given: ${Input.KnownHosts} is the old name of ${Input.SshKnownHosts}; give only ${Input.SshKnownHosts}`);
  warning(`input ${Input.KnownHosts} is deprecated: name it ${Input.SshKnownHosts} (the old name goes in the next major version)`);
  return old;
}
function mergeInputs2(reportDir, failOn2) {
  const patterns = text(Input.Reports).split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== "");
  if (patterns.length === 0) throw new UsageError(`input ${Input.Reports} is required in mode merge: the report.json files of the runs to merge, e.g. reports/**/report.json`);
  const reports = namedForSync(ACTION_NAMES, () => reportPatterns(patterns, workspace()));
  return mergeInputs({ reports, ...reportFiles(reportDir), failOn: failOn2 }, ACTION_NAMES);
}
function validateInputs2(reportDir, failOn2) {
  const ssh = sshAddress();
  const key = getInput(Input.SshKey, { trimWhitespace: false });
  if (key.trim() === "") throw new UsageError(`input ${Input.SshKey} is required in mode validate: the private key's text, from a secret (e.g. \${{ secrets.DALIDOU_SSH_KEY }})`);
  const knownHosts = knownHostsInput();
  if (knownHosts === "") {
    throw new UsageError(`input ${Input.SshKnownHosts} is required in mode validate: the host's key lines (ssh-keyscan output, checked once), so the action never trusts an unknown host`);
  }
  const raw = {
    ssh,
    identity: { text: key },
    // known_hosts lines always hold spaces; a path does not
    knownHosts: /\s/.test(knownHosts) ? { text: knownHosts } : { path: knownHosts },
    profile: given(Input.Profile),
    stampTimezone: given(Input.StampTimezone),
    root: given(Input.Root),
    rpo: given(Input.Rpo),
    timeout: given(Input.Timeout),
    deep: bool(Input.Deep),
    offhost: given(Input.Offhost),
    atocoreValidator: given(Input.AtocoreValidator),
    ...reportFiles(reportDir),
    failOn: failOn2,
    ...historyFields(reportDir)
  };
  return validateInputs(raw, ACTION_NAMES, { base: workspace(), env: {} });
}
function readActionInputs() {
  const githubToken = optional(Input.GithubToken);
  const sshKey = getInput(Input.SshKey, { trimWhitespace: false });
  const secrets = [githubToken ?? "", sshKey].filter((value) => value.trim() !== "");
  for (const secret of secrets) setSecret(secret);
  for (const line of sshKey.split(/\r?\n/)) if (line.trim().length >= 6 && !line.includes("-----")) setSecret(line.trim());
  const mode = oneOf(Input.Mode, ["drill", "validate", "merge", "rehearse"], "drill");
  const failOnText = given(Input.FailOn);
  const failOn2 = namedForSync(ACTION_NAMES, () => failOn(failOnText));
  const publish = oneOf(Input.Publish, ["auto", "check-run", "commit-status", "none"], "auto");
  if (githubToken === null && (publish === "check-run" || publish === "commit-status")) {
    throw new UsageError(`input ${Input.Publish}: ${publish} needs input ${Input.GithubToken} (the default is the job's token; was it set to an empty secret?)`);
  }
  const reportDir = reportDirectory();
  if (mode !== "drill" && mode !== "rehearse" && optional(Input.RtoBudget) !== null) throw new UsageError(`input ${Input.RtoBudget} is for modes drill and rehearse (only they measure an RTO); this run is mode ${mode}`);
  if (mode === "merge" && optional(Input.History) !== null) throw new UsageError(`input ${Input.History} is for modes drill, validate and rehearse: a merge runs nothing to record`);
  const checkName = text(Input.CheckName) || defaultCheckName(mode, optional(Input.Profile));
  refuseInputsOfOtherModes(mode);
  const drill = mode === "drill" ? drillInputs2(reportDir, failOnText) : null;
  const validate = mode === "validate" ? validateInputs2(reportDir, failOnText) : null;
  const merge = mode === "merge" ? mergeInputs2(reportDir, failOnText) : null;
  const rehearse = mode === "rehearse" ? rehearseInputs2(reportDir, failOnText) : null;
  refuseInputsOfOtherModesThanRehearse(mode);
  if (mode === "drill") {
    for (const name of [Input.SshHost, Input.SshKey, Input.SshKnownHosts, Input.KnownHosts, Input.Offhost, Input.AtocoreValidator, Input.StampTimezone]) {
      if (optional(name) !== null) throw new UsageError(`input ${name} is for mode validate; this run is mode drill`);
    }
  } else if (mode === "validate") {
    for (const name of [Input.Image, Input.FromImage, Input.Command, Input.BackupCli, Input.Seed, Input.WorkDir, Input.Faults, Input.Drills, Input.ProfileVars]) {
      if (optional(name) !== null) throw new UsageError(`input ${name} is for mode drill; this run is mode validate`);
    }
  }
  return {
    mode,
    drill,
    validate,
    merge,
    rehearse,
    failOn: failOn2,
    publish: githubToken === null ? "none" : publish,
    githubToken,
    checkName,
    reportDir,
    secrets
  };
}
function refuseInputsOfOtherModes(mode) {
  if (mode !== "merge") {
    if (optional(Input.Reports) !== null) throw new UsageError(`input ${Input.Reports} is for mode merge; this run is mode ${mode}`);
    return;
  }
  const drillOnly = [Input.Image, Input.FromImage, Input.Command, Input.BackupCli, Input.Seed, Input.WorkDir, Input.Faults, Input.Drills, Input.Timeout];
  const validateOnly = [Input.SshHost, Input.SshKey, Input.SshKnownHosts, Input.KnownHosts, Input.Offhost, Input.AtocoreValidator, Input.StampTimezone];
  for (const name of [...drillOnly, ...validateOnly]) {
    if (optional(name) !== null) throw new UsageError(`input ${name} is not for mode merge: a merge only reads the reports of runs that are done`);
  }
}
function rehearseInputs2(reportDir, failOn2) {
  const key = getInput(Input.SshKey, { trimWhitespace: false });
  if (key.trim() === "") throw new UsageError(`input ${Input.SshKey} is required in mode rehearse: the private key's text, from a secret (e.g. \${{ secrets.DALIDOU_SSH_KEY }})`);
  const knownHosts = knownHostsInput();
  if (knownHosts === "") throw new UsageError(`input ${Input.SshKnownHosts} is required in mode rehearse: the host's key lines, so the action never trusts an unknown host`);
  return rehearseInputs(
    {
      ssh: sshAddress("rehearse"),
      identity: { text: key },
      knownHosts: /\s/.test(knownHosts) ? { text: knownHosts } : { path: knownHosts },
      root: given(Input.Root),
      stamp: given(Input.Stamp),
      image: given(Input.Image),
      command: given(Input.Command),
      backupCli: given(Input.BackupCli),
      faults: list(Input.Faults),
      workDir: given(Input.WorkDir),
      sourcesRoot: given(Input.SourcesRoot),
      timeout: given(Input.Timeout),
      ...reportFiles(reportDir),
      failOn: failOn2,
      ...historyFields(reportDir),
      rtoBudget: given(Input.RtoBudget),
      rpo: given(Input.Rpo)
    },
    ACTION_NAMES,
    // the key comes from its input only, never from the runner's environment
    { base: workspace(), env: {} }
  );
}
function refuseInputsOfOtherModesThanRehearse(mode) {
  const rehearseOnly = [Input.Stamp, Input.SourcesRoot];
  const notForRehearse = [Input.FromImage, Input.Seed, Input.Drills, Input.Offhost, Input.AtocoreValidator];
  const refused = mode === "rehearse" ? notForRehearse : rehearseOnly;
  for (const name of refused) {
    if (optional(name) !== null) throw new UsageError(`input ${name} is ${mode === "rehearse" ? "not for mode rehearse" : "for mode rehearse"}; this run is mode ${mode}`);
  }
}
function readPostInputs() {
  const githubToken = optional(Input.GithubToken);
  if (githubToken) setSecret(githubToken);
  return { githubToken };
}
function defaultCheckName(mode, profile) {
  const name = DEFAULT_CHECK_NAME[mode];
  if (profile === null || profile === "atocore" || mode === "merge") return name;
  const service = /^[a-z][a-z0-9_-]*$/.test(profile) ? profile : basename3(profile).replace(/\.(ya?ml|json)$/i, "") || profile;
  return name.replace("AtoCore", service);
}
function isAtoCoreProfile(profile) {
  return profile === void 0 || profile.trim() === "" || profile.trim() === "atocore";
}

export {
  ownWrite,
  ownWriteAsync,
  zonedTimeMs,
  StepFinding,
  whyNotEvidence,
  requireEvidence,
  isServiceStartFinding,
  stepStatusFor,
  isExpectedError,
  runPlan,
  retentionPromise,
  judgeDryRun,
  ROTATION_CHECK_IDS,
  judgeRotation,
  verifierAnswer,
  catchesCheckId,
  judgeVerification,
  verificationNotEvidence,
  ATOCORE_RETENTION,
  FOREIGN_DIRECTORY,
  rotationStamps,
  ATOCORE_CORRUPTIONS,
  readValidateAnswer,
  planDrill,
  DEFAULT_SEED_DIR,
  STANDIN_DIR,
  STANDIN_SERVICE_COMMAND,
  STANDIN_BACKUP_CLI,
  generateSeedRows,
  SQLITE_HEADER_BYTES,
  SQLITE_MAGIC,
  hasSqliteMagic,
  judgeSqliteHeader,
  writeOutputFile,
  HistoryStore,
  expand,
  DRILL_NAMES,
  schemaValidator,
  readBounded,
  describeSchemaErrors,
  decodeUtf8,
  loadProfileFile,
  GitHubApi,
  renderMarkdownSummary,
  reportHeadline,
  reportAnnotations,
  GitHubPublisher,
  closeAbandoned,
  writeReportFiles,
  State,
  Input,
  Output,
  ReportFile,
  readRunContext,
  loadLedger,
  saveLedger,
  selectForDeepCheck,
  checkImmutable,
  NANOCLAW_DB,
  ORACLE_DB,
  KNOWLEDGE_TAR,
  AUTH_TAR,
  CHROMA_DIR,
  COLLECTIONS_FILE,
  IPC_SECRET,
  CHROMA_CATALOGUE,
  WRITTEN_BY_EACH_RUN,
  LATEST_LINK,
  EXPECTED_NON_BACKUPS,
  JELLYCORE_RETENTION_MS,
  MAX_COLLECTIONS_BYTES,
  describeZone,
  backupTime,
  REPORT_FILE_LIMITS,
  ACTION_NAMES,
  readActionInputs,
  readPostInputs
};
