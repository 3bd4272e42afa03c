/**
 * Dalidou validation over a real loopback sshd: the harness against a bare, serial ssh pass
 * doing the same reads, and against one ssh session per snapshot.
 *
 *   npx vitest run --config bench/validate.vitest.config.ts bench/validate-ssh.bench.ts
 *
 * Runs as root (it starts sshd and logs in as a read-only user). Sizes by environment:
 * BENCH_SNAPSHOTS (17), BENCH_MB (100, the database of each snapshot), BENCH_REPEAT (3),
 * BENCH_MODES (hash,deep), BENCH_COMPARE_CLI (another build's bin/atocore-drill.js, run side by side).
 * Prints a table and writes the numbers as JSON to BENCH_OUT (default: the temp dir).
 * Speed and memory are measured here, never in the tests.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { it } from 'vitest';
import { stampOf, type SnapshotStamp } from '../src/atocore/stamp.js';
import { CLI } from '../test/support/cli.js';
import { buildSnapshotTree, makeReadableByAll } from '../test/support/snapshot-tree.js';
import { startSshd } from '../test/support/ssh-server.js';

const SNAPSHOTS = Number(process.env.BENCH_SNAPSHOTS ?? 17);
const MB = Number(process.env.BENCH_MB ?? 100);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const OUT = process.env.BENCH_OUT ?? join(tmpdir(), 'atocore-drill-validate-bench.json');
/** hash, deep or both (`hash,deep`, the default) */
const MODES = (process.env.BENCH_MODES ?? 'hash,deep').split(',').filter((m): m is 'hash' | 'deep' => m === 'hash' || m === 'deep');
/** another build's bin/atocore-drill.js, run side by side with this one (e.g. the commit before a change) */
const COMPARE_CLI = process.env.BENCH_COMPARE_CLI ?? null;
const PAYLOAD = 4_000;

interface Sample {
  readonly ms: number;
  readonly maxRssKb: number;
  readonly bytesOut: number;
}

/** Runs a program under /usr/bin/time (peak RSS), reading and discarding its stdout as a consumer would. */
function measure(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Sample & { code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', 'MAXRSS=%M', ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let bytesOut = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (bytesOut += chunk.length));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const rss = /MAXRSS=(\d+)/.exec(stderr);
      resolve({ ms, maxRssKb: rss ? Number(rss[1]) : 0, bytesOut, code, stderr });
    });
  });
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

it(`validate: ${SNAPSHOTS} snapshots × ${MB} MB over loopback sshd`, async () => {
  const work = mkdtempSync(join(tmpdir(), 'atocore-drill-bench-validate-'));
  chmodSync(work, 0o755);
  const root = join(work, 'tree');
  const stamps: SnapshotStamp[] = [];
  for (let i = SNAPSHOTS - 1; i >= 0; i--) stamps.push(stampOf(new Date(Date.parse('2026-04-08T06:00:00Z') - i * 86_400_000)));
  // one big day first, then a little each day: every snapshot's database is about MB megabytes
  const firstRows = Math.ceil((MB * 1024 * 1024) / (PAYLOAD + 150));
  const built = Date.now();
  buildSnapshotTree(root, { snapshots: stamps.map((stamp, i) => ({ stamp, kind: 'good' as const, rows: i === 0 ? firstRows : 20 })), payloadBytes: PAYLOAD });
  makeReadableByAll(root);
  const buildMs = Date.now() - built;
  const sshd = await startSshd(join(work, 'ssh'));
  const snapshotsDir = join(root, 'backups', 'snapshots');
  const ssh = ['ssh', '-p', String(sshd.port), '-i', sshd.identityFile, '-o', `UserKnownHostsFile=${sshd.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', `${sshd.user}@127.0.0.1`];
  const harness = (extra: readonly string[]): string[] => [
    process.execPath, CLI, 'validate', '--ssh', sshd.address(), '--known-hosts', sshd.knownHosts, '--identity', sshd.identityFile, '--root', root,
    '--now', '2026-04-08T07:00:00Z', '--atocore-validator', 'none', '--chroma-rpo', 'off', ...extra,
  ];
  const ledger = join(work, 'ledger.json');
  /** The reads the harness makes for one snapshot, as one shell script: listing, metadata, registry, hashes, and with `deep` the database itself. */
  const snapshotScript = (stamp: string, deep: boolean): string => {
    const dir = `${snapshotsDir}/${stamp}`;
    const hashes = deep ? `find '${dir}' -type f ! -path '${dir}/db/atocore.db' -exec sha256sum -b -- {} +` : `find '${dir}' -type f -exec sha256sum -b -- {} +`;
    return [
      `find -H '${dir}' -mindepth 1 -printf '%y\\0%s\\0%T@\\0%l\\0%P\\0'`,
      `head -c 1048577 -- '${dir}/backup-metadata.json'`,
      `head -c 8388609 -- '${dir}/config/project-registry.json'`,
      hashes,
      ...(deep ? [`cat -- '${dir}/db/atocore.db'`] : []),
    ].join('; ');
  };
  const prologue = `find -H '${snapshotsDir}' -mindepth 1 -maxdepth 1 -printf '%y\\0%s\\0%T@\\0%l\\0%P\\0'; df -Pk -- '${snapshotsDir}'`;
  const scenarios: Array<{ name: string; mode: 'hash' | 'deep'; run: () => Promise<Sample> }> = [];
  // 17 daily snapshots are more than retention keeps: the harness's verdict is fail (exit 1), which is fine here
  const once = (argv: readonly string[], accept: readonly number[] = [0]) => async (): Promise<Sample> => {
    const result = await measure(argv);
    if (!accept.includes(result.code ?? -1)) throw new Error(`${argv.join(' ')} exited ${result.code}: ${result.stderr.slice(-2000)}`);
    return result;
  };
  const perSnapshot = (deep: boolean) => async (): Promise<Sample> => {
    let ms = 0;
    let maxRssKb = 0;
    let bytesOut = 0;
    const first = await once([...ssh, prologue])();
    ms += first.ms;
    bytesOut += first.bytesOut;
    for (const stamp of stamps) {
      const sample = await once([...ssh, snapshotScript(stamp, deep)])();
      ms += sample.ms;
      maxRssKb = Math.max(maxRssKb, sample.maxRssKb);
      bytesOut += sample.bytesOut;
    }
    return { ms, maxRssKb, bytesOut };
  };
  for (const mode of MODES) {
    const deep = mode === 'deep';
    if (COMPARE_CLI) {
      scenarios.push({
        name: `previous build --ssh ${deep ? '--deep ' : ''}--ledger (${COMPARE_CLI})`,
        mode,
        run: async () => {
          rmSync(ledger, { force: true });
          return once([process.execPath, COMPARE_CLI, ...harness([...(deep ? ['--deep'] : []), '--ledger', ledger]).slice(2)], [0, 1])();
        },
      });
    }
    scenarios.push({
      name: `harness --ssh ${deep ? '--deep ' : ''}--ledger`,
      mode,
      run: async () => {
        rmSync(ledger, { force: true });
        return once(harness([...(deep ? ['--deep'] : []), '--ledger', ledger]), [0, 1])();
      },
    });
    scenarios.push({ name: 'bare ssh, one session, serial', mode, run: once([...ssh, [prologue, ...stamps.map((stamp) => snapshotScript(stamp, deep))].join('; ')]) });
    scenarios.push({ name: 'bare ssh, one session per snapshot', mode, run: perSnapshot(deep) });
  }
  if (MODES.includes('deep')) scenarios.push({
    name: 'harness --dir (local, every database integrity-checked)',
    mode: 'deep',
    run: async () => {
      rmSync(ledger, { force: true });
      return once([process.execPath, CLI, 'validate', '--dir', root, '--now', '2026-04-08T07:00:00Z', '--chroma-rpo', 'off', '--ledger', ledger], [0, 1])();
    },
  });

  const results: Array<{ name: string; mode: string; median_ms: number; runs_ms: number[]; max_rss_mb: number; mb_received: number }> = [];
  try {
    for (const scenario of scenarios) {
      const samples: Sample[] = [];
      for (let i = 0; i < REPEAT; i++) samples.push(await scenario.run());
      results.push({
        name: scenario.name,
        mode: scenario.mode,
        median_ms: Math.round(median(samples.map((s) => s.ms))),
        runs_ms: samples.map((s) => Math.round(s.ms)),
        max_rss_mb: Math.round(Math.max(...samples.map((s) => s.maxRssKb)) / 1024),
        mb_received: Math.round(samples[0]!.bytesOut / 1024 / 1024),
      });
    }
  } finally {
    await sshd.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const byName = (mode: string, prefix: string) => results.find((r) => r.mode === mode && r.name.startsWith(prefix))!;
  const ratios = Object.fromEntries(
    MODES.map((mode) => {
      const h = byName(mode, 'harness --ssh');
      return [mode, { vs_bare_serial: +(h.median_ms / byName(mode, 'bare ssh, one session,').median_ms).toFixed(2), vs_per_snapshot: +(h.median_ms / byName(mode, 'bare ssh, one session per').median_ms).toFixed(2) }];
    }),
  );
  const report = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memory_gb: Math.round(totalmem() / 1024 ** 3), node: process.version },
    snapshots: SNAPSHOTS,
    db_mb: MB,
    repeat: REPEAT,
    build_tree_ms: buildMs,
    results,
    ratios,
  };
  writeFileSync(OUT, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
}, 3_600_000);
