import { createRequire as __atocoreDrillCreateRequire } from 'node:module';
import { fileURLToPath as __atocoreDrillFileURLToPath } from 'node:url';
import { dirname as __atocoreDrillDirname } from 'node:path';
const require = __atocoreDrillCreateRequire(import.meta.url);
const __filename = __atocoreDrillFileURLToPath(import.meta.url);
const __dirname = __atocoreDrillDirname(__filename);
import {
  UsageError
} from "./chunk-NLENNPWZ.mjs";

// src/common/duration.ts
var UNIT_MS = { ms: 1, s: 1e3, m: 6e4, h: 36e5, d: 864e5 };
function parseDuration(text, what) {
  const trimmed = text.trim();
  if (!/^(\d+(ms|s|m|h|d))+$/.test(trimmed)) {
    throw new UsageError(
      `${what}: "${text}" is not a duration; write it as a number with a unit (ms, s, m, h, d), e.g. 90s, 15m, 1h30m`
    );
  }
  let total = 0;
  for (const match of trimmed.matchAll(/(\d+)(ms|s|m|h|d)/g)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ""] ?? 0);
  }
  if (total <= 0) throw new UsageError(`${what}: "${text}" must be longer than zero`);
  return total;
}
function formatDuration(ms) {
  const clamped = Number.isFinite(ms) && ms > 0 ? ms : 0;
  const wholeMs = Math.round(clamped);
  if (wholeMs < 1e3) return `${wholeMs}ms`;
  const tenths = Math.round(clamped / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)}s`;
  const seconds = Math.round(clamped / 1e3);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${twoDigits(seconds % 60)}s`;
  const minutes = Math.round(clamped / 6e4);
  return `${Math.floor(minutes / 60)}h${twoDigits(minutes % 60)}m`;
}
function twoDigits(value) {
  return value.toString().padStart(2, "0");
}
var LONGEST_TIMER_MS = 2 ** 31 - 1;
function timerMs(ms) {
  return Math.min(Math.max(0, ms), LONGEST_TIMER_MS);
}

export {
  parseDuration,
  formatDuration,
  timerMs
};
