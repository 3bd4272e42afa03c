// Cold start of the action: from `node dist/main/index.mjs` to the first drill step's log
// group (what a runner shows first), side by side with bare `node` printing one line.
// Usage: node bench/cold-start.mjs [runs]   (needs python3: the embedded drill starts)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.argv[2] ?? 15);

function timeToFirst(args, marker, env = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes(marker)) {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        // SIGTERM: the action tears down what it started
        process.kill(-child.pid, 'SIGTERM');
        child.on('close', () => resolve(ms));
      }
    });
    child.on('error', reject);
  });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-cold-'));
try {
  const env = {
    RUNNER_TEMP: work,
    GITHUB_OUTPUT: join(work, 'output'),
    GITHUB_STATE: join(work, 'state'),
    INPUT_MODE: 'drill',
    'INPUT_REPORT-DIR': join(work, 'reports'),
    'INPUT_GITHUB-TOKEN': '',
  };
  for (const file of ['output', 'state']) writeFileSync(join(work, file), '');
  const action = [];
  const bare = [];
  for (let i = 0; i < runs; i++) {
    action.push(await timeToFirst([join(root, 'dist/main/index.mjs')], '::group::', env));
    bare.push(await timeToFirst(['-e', 'process.stdout.write("::group::x\\n"); setTimeout(() => {}, 10000)'], '::group::'));
  }
  console.log(`| cold start to the first step (median of ${runs}) | action bundle ${median(action).toFixed(0)} ms | bare node ${median(bare).toFixed(0)} ms |`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
