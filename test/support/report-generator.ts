import type { CheckResult, CheckStatus, DrillReport, SnapshotReport, StepRecord, StepStatus } from '../../src/report/model.js';
import { decideVerdict } from '../../src/report/verdict.js';

/** mulberry32: a small seeded PRNG, so that a failing case can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Report generator: random statuses, random hostile strings; the verdict from the engine's one rule. */
export class ReportGenerator {
  readonly #random: () => number;

  constructor(seed: number) {
    this.#random = prng(seed);
  }

  int(max: number): number {
    return Math.floor(this.#random() * max);
  }

  chance(p: number): boolean {
    return this.#random() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** Strings as a hostile target could make them: NUL and other controls, lone surrogates, XML and Markdown syntax, huge ones. */
  hostile(): string {
    const pieces = [
      'ok',
      '\u0000',
      '\u0001\u0002\u001b[31m',
      '\ud800',
      '\udfff',
      '\ud83d\ude00',
      '\ufffe\uffff',
      ']]>',
      '<![CDATA[',
      '</testcase>',
      '&amp;&',
      '"\'',
      '|',
      '||',
      '\n',
      '\r\n',
      '\r',
      '\t',
      '```',
      '<details>',
      '<script>alert(1)</script>',
      '`',
      'é',
      '🛑',
      '\u2028',
      ' ',
    ];
    const parts: string[] = [];
    const n = this.int(12);
    for (let i = 0; i < n; i++) parts.push(this.pick(pieces));
    if (this.chance(0.03)) parts.push(this.pick(['x', '\u0000', 'é', '🛑', ']]>', '|\n']).repeat(50_000 + this.int(300_000)));
    return parts.join('');
  }

  id(): string {
    return this.chance(0.8) ? this.pick(['backup.created', 'restore.integrity', 'service.health', 'snapshot.integrity', 'rpo.fresh', 'marker.post_backup_gone']) : this.hostile();
  }

  evidence(depth = 0): Record<string, unknown> {
    const evidence: Record<string, unknown> = {};
    const n = this.int(4);
    for (let i = 0; i < n; i++) {
      const key = this.chance(0.7) ? `k${i}` : this.hostile();
      evidence[key] = depth < 3 && this.chance(0.3) ? this.evidence(depth + 1) : this.chance(0.5) ? this.hostile() : this.chance(0.5) ? this.int(1e9) : [this.hostile(), null, true];
    }
    return evidence;
  }

  check(statuses: readonly CheckStatus[] = ['pass', 'pass', 'warn', 'fail', 'skip']): CheckResult {
    return { id: this.id(), status: this.pick(statuses), message: this.hostile(), evidence: this.evidence() };
  }

  step(statuses: readonly StepStatus[] = ['pass', 'pass', 'pass', 'fail', 'error', 'skip']): StepRecord {
    return { id: this.pick(['start', 'backup', 'restore', 'restart', 'verify_service', 'teardown', 'open', 'list', 'snapshots', 'disk']), title: this.hostile(), status: this.pick(statuses), duration_ms: this.int(100_000), detail: this.hostile() };
  }

  report(): DrillReport {
    const kind = this.pick(['drill', 'validate'] as const);
    // a run that could not even start: no steps, no checks, only why
    if (this.chance(0.05)) return this.shell(kind, 'error', [], [], [], this.hostile() || 'no Docker');
    const quiet = this.chance(0.3);
    const steps = Array.from({ length: this.int(10) }, () => this.step(quiet ? ['pass', 'skip'] : undefined));
    const checks = Array.from({ length: this.int(30) }, () => this.check(quiet ? ['pass', 'skip', 'warn'] : undefined));
    const snapshots: SnapshotReport[] =
      kind === 'validate'
        ? Array.from({ length: this.int(5) }, () => {
            const snapshotChecks = Array.from({ length: this.int(8) }, () => this.check(quiet ? ['pass', 'warn'] : undefined));
            return { stamp: this.chance(0.9) ? `2026040${this.int(9) + 1}T060000Z` : this.hostile(), status: this.pick(['pass', 'warn', 'fail'] as const), checks: snapshotChecks };
          })
        : [];
    const all = [...checks, ...snapshots.flatMap((s) => s.checks)];
    const verdict = decideVerdict(steps, all);
    return this.shell(kind, verdict, steps, checks, snapshots, verdict === 'error' && this.chance(0.8) ? this.hostile() : undefined);
  }

  shell(kind: DrillReport['kind'], verdict: DrillReport['verdict'], steps: StepRecord[], checks: CheckResult[], snapshots: SnapshotReport[], error?: string): DrillReport {
    // a run lasts at least as long as its steps
    const duration = steps.reduce((sum, step) => sum + step.duration_ms, 0) + this.int(600_000);
    return {
      schema: 'atocore-drill/report@1',
      kind,
      verdict,
      started_at: '2026-04-07T06:00:00.000Z',
      finished_at: new Date(Date.parse('2026-04-07T06:00:00.000Z') + duration).toISOString(),
      duration_ms: duration,
      target: { runtime: this.chance(0.5) ? 'process' : this.hostile(), image: this.chance(0.5) ? null : this.hostile(), backup_stamp: this.chance(0.5) ? null : this.hostile() },
      steps,
      checks,
      metrics: { rto_ms: this.chance(0.5) ? null : this.int(10_000), restore_ms: null, rpo_s: this.chance(0.5) ? null : this.int(10_000) },
      snapshots,
      ...(error !== undefined ? { error } : {}),
    };
  }
}
