import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { planProfileDrill } from '../src/profiles/plan.js';
import type { ServiceProfile } from '../src/profiles/profile.js';
import { PROJECT_ROOT, readReport, runCli, startCli, statusOf } from './support/cli.js';

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-profiles-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const JELLYCORE_PROFILE = join(PROJECT_ROOT, 'profiles/jellycore.yaml');
const NOTES_PROFILE = join(PROJECT_ROOT, 'fixtures/profiles/notes-service.yaml');
const CORRECTED = join(PROJECT_ROOT, 'fixtures/jellycore/corrected');

let counter = 0;
async function drill(args: string[]) {
  const name = `run-${++counter}`;
  const tmp = join(work, `${name}-tmp`);
  mkdirSync(tmp);
  const files = { json: join(work, `${name}.json`), junit: join(work, `${name}.xml`) };
  const run = await runCli(['drill', '--timeout', '4m', ...args, '--work-dir', tmp, '--report-json', files.json, '--junit', files.junit]);
  return { run, files, tmp };
}

/** Processes still running with this run's mark in their environment. */
function processesOfRun(runId: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(`ATOCORE_DRILL_RUN=${runId}`)) pids.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

describe('the JellyCore profile: the backup plan drilled as written', () => {
  it('fails, naming each store the plan does not restore, the verification gaps, the off-site sync and the rotation; nothing left running or on disk', async () => {
    const { run, files, tmp } = await drill(['--profile', 'jellycore']);
    const report = readReport(files.json);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(report.verdict).toBe('fail');
    expect(report.target).toMatchObject({ profile: 'jellycore', profile_source: 'built-in profile jellycore', drills: ['restore', 'verification', 'offsite', 'rotation'] });
    const status = statusOf(report);
    // what fixtures/jellycore/README.md says a drill of the plan sees, store by store
    for (const store of ['messages_db', 'oracle_db', 'knowledge', 'chromadb_collection', 'chromadb_dotfile', 'auth', 'ipc_secret']) expect(status[`store.${store}.restored`], store).toBe('fail');
    expect(status['store.chromadb_file.restored']).toBe('pass');
    const ipc = report.checks.find((c) => c.id === 'store.ipc_secret.restored')!;
    expect(ipc.message).toMatch(/marker A .* missing; marker B .* still there/);
    expect(report.checks.find((c) => c.id === 'store.messages_db.restored')!.message).toMatch(/^store messages_db is not restored as backed up: marker B/);
    expect(status).toMatchObject({
      'backup.created': 'pass',
      'restore.refuses_without_confirm': 'pass',
      'service.health': 'pass',
      'verification.accepts_good': 'pass',
      'verification.catches_corrupt_database': 'pass',
      'verification.catches_truncated_archive': 'pass',
      'verification.catches_emptied_directory': 'fail',
      'verification.catches_missing_file': 'fail',
      'verification.catches_corrupt_json': 'fail',
      'offsite.arrived': 'fail',
      'rotation.keeps_root': 'fail',
      'rotation.keeps_newest': 'fail',
      'rotation.keeps_foreign': 'fail',
      'rotation.keeps_promised': 'pass',
    });
    expect(report.checks.every((c) => typeof c.step === 'string')).toBe(true);
    expect(report.metrics.rto_ms).toBeGreaterThan(0);
    // JUnit says the same: one failure per failing check
    const failures = Number(/<testsuites [^>]*failures="(\d+)"/.exec(readFileSync(files.junit, 'utf8'))?.[1]);
    expect(failures).toBe(report.checks.filter((c) => c.status === 'fail').length);
    expect(processesOfRun(String(report.target.run_id))).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('passes with the corrected scripts (--profile-var scripts=…): every check', async () => {
    const { run, files } = await drill(['--profile', 'jellycore', '--profile-var', `scripts=${CORRECTED}`]);
    const report = readReport(files.json);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(report.checks.filter((c) => c.status !== 'pass')).toEqual([]);
    expect(report.checks.length).toBe(planProfileDrill(parseYaml(readFileSync(JELLYCORE_PROFILE, 'utf8')) as ServiceProfile, ['verification', 'offsite', 'rotation']).flatMap((s) => s.checks).length);
    expect(processesOfRun(String(report.target.run_id))).toEqual([]);
  });

  it('--drills restore runs the restore drill alone; a drill the profile does not declare is exit 2 naming --drills', async () => {
    const only = await drill(['--profile', 'jellycore', '--profile-var', `scripts=${CORRECTED}`, '--drills', 'restore']);
    const report = readReport(only.files.json);
    expect(only.run.code, only.run.stderr).toBe(0);
    expect(report.checks.some((c) => c.id.startsWith('rotation.') || c.id.startsWith('verification.') || c.id.startsWith('offsite.'))).toBe(false);
    const notes = await runCli(['drill', '--profile', NOTES_PROFILE, '--drills', 'restore,rotation']);
    expect(notes.code).toBe(2);
    expect(notes.stderr).toMatch(/--drills: rotation: not declared by .*notes-service.yaml/);
  });
});

describe('a profile drill interrupted or out of time: an error, never a verdict on the service', () => {
  // the step titles as the console prints them when each starts
  const STEPS: [string, RegExp][] = [
    ['backup', /… Back up with jellycore/],
    ['restore_unconfirmed', /… Restore without confirming/],
    ['restore', /… Restore the backup, confirmed/],
    ['verification', /… Show the backup's own verification/],
    ['offsite', /… Run the off-site sync/],
  ];
  it.each(STEPS)('SIGTERM as %s starts: exit 3, the step an error, no check decided by it, nothing left running or on disk', async (step, starts) => {
    const tmp = mkdtempSync(join(work, 'sigterm-'));
    const json = join(tmp, '..', `${step}-sigterm.json`);
    let sent = false;
    const done = await startCli(['drill', '--profile', 'jellycore', '--profile-var', `scripts=${CORRECTED}`, '--work-dir', tmp, '--report-json', json], (output, child) => {
      if (!sent && starts.test(output)) {
        sent = true;
        child.kill('SIGTERM');
      }
    });
    expect(sent, done.output).toBe(true);
    expect(done.code, done.output).toBe(3);
    const report = readReport(json);
    expect(report.verdict).toBe('error');
    const record = report.steps.find((s) => s.id === step)!;
    // the signal came while the step ran, or just after it ended: never a pass or fail after it
    const at = report.steps.findIndex((s) => s.status === 'error');
    expect(at, JSON.stringify(report.steps)).toBeGreaterThanOrEqual(report.steps.indexOf(record));
    const interruptedStep = report.steps[at]!;
    expect(interruptedStep.detail).toMatch(/SIGTERM|interrupt/i);
    for (const c of report.checks.filter((c) => c.step === interruptedStep.id || report.steps.findIndex((s) => s.id === c.step) > at)) expect(c.status, c.id).toBe('skip');
    expect(report.steps.at(-1)).toMatchObject({ id: 'teardown', status: 'pass' });
    expect(processesOfRun(String(report.target.run_id))).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('a profile drill killed outright (SIGKILL): cleanup removes its drill root and stops the service it daemonized', async () => {
    const tmp = mkdtempSync(join(work, 'sigkill-'));
    let killed = false;
    await startCli(['drill', '--profile', NOTES_PROFILE, '--work-dir', tmp], (output, child) => {
      if (!killed && /… Write marker B/.test(output)) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    expect(killed).toBe(true);
    const [root] = readdirSync(tmp);
    expect(root).toMatch(/^atocore-drill-/);
    const left = (): number[] => {
      const pids: number[] = [];
      for (const name of readdirSync('/proc')) {
        if (!/^\d+$/.test(name)) continue;
        try {
          if (readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(`ATOCORE_DRILL_ROOT=${join(tmp, root!)}`)) pids.push(Number(name));
        } catch {
          // gone
        }
      }
      return pids;
    };
    expect(left().length).toBeGreaterThan(0);
    const cleaned = await runCli(['cleanup', '--older-than', '0s', '--under', tmp], { timeoutMs: 60_000 });
    expect(cleaned.code, cleaned.stdout + cleaned.stderr).toBe(0);
    expect(readdirSync(tmp)).toEqual([]);
    expect(left()).toEqual([]);
  });

  it('a second SIGTERM while teardown waits on a stop that hangs: the harness ends promptly and nothing the profile started (a daemon in its own session) is left running', async () => {
    const hanging = join(work, 'hanging-stop.yaml');
    const profile = parseYaml(readFileSync(NOTES_PROFILE, 'utf8')) as Record<string, any>;
    profile.service.stop = ['sleep', '25'];
    profile.restore.service = 'running';
    // a daemon in a session of its own, out of reach of the process groups the drill started
    profile.service.start[2] = profile.service.start[2].replace('${python} -m http.server', 'setsid ${python} -m http.server');
    writeFileSync(hanging, toYaml(profile));
    const tmp = mkdtempSync(join(work, 'second-'));
    let first = false;
    let second = false;
    const began = Date.now();
    const done = await startCli(['drill', '--profile', hanging, '--work-dir', tmp], (output, child) => {
      if (!first && /… Write marker B/.test(output)) {
        first = true;
        child.kill('SIGTERM');
      } else if (first && !second && /… Tear down/.test(output)) {
        second = true;
        setTimeout(() => child.kill('SIGTERM'), 300);
      }
    });
    expect(second, done.output).toBe(true);
    expect(done.code).toBe(3);
    expect(Date.now() - began).toBeLessThan(20_000);
    const carrying = readdirSync('/proc').filter((name) => {
      try {
        return /^\d+$/.test(name) && readFileSync(`/proc/${name}/environ`, 'latin1').includes(`ATOCORE_DRILL_ROOT=${tmp}/`);
      } catch {
        return false;
      }
    });
    expect(carrying).toEqual([]);
  });

  it('--timeout running out during the restore: exit 3 naming --timeout, the restore not counted against the service', async () => {
    const slow = join(work, 'slow-restore.yaml');
    const profile = parseYaml(readFileSync(NOTES_PROFILE, 'utf8')) as Record<string, any>;
    profile.restore.command[2] = `sleep 30; ${profile.restore.command[2]}`;
    writeFileSync(slow, toYaml(profile));
    const tmp = mkdtempSync(join(work, 'budget-'));
    const run = await runCli(['drill', '--profile', slow, '--timeout', '6s', '--work-dir', tmp, '--report-json', join(tmp, '..', 'budget.json')], { timeoutMs: 60_000 });
    expect(run.code, run.stdout + run.stderr).toBe(3);
    const report = readReport(join(tmp, '..', 'budget.json'));
    expect(report.verdict).toBe('error');
    const failed = report.steps.find((s) => s.status === 'error')!;
    expect(failed.id).toBe('restore_unconfirmed');
    expect(failed.detail, failed.detail).toMatch(/cut at what was left of --timeout 6(\.0)?s after/);
    expect(statusOf(report)['restore.refuses_without_confirm']).toBe('skip');
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe('a profile for your own service (SQLite + files, no TypeScript)', () => {
  it('passes: the restore is confirmed by an argument, refused without it, and both stores come back', async () => {
    const { run, files } = await drill(['--profile', NOTES_PROFILE]);
    const report = readReport(files.json);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(statusOf(report)).toEqual({
      'backup.created': 'pass',
      'restore.refuses_without_confirm': 'pass',
      'restore.backup_kept': 'pass',
      'service.health': 'pass',
      'store.notes_db.restored': 'pass',
      'store.attachments.restored': 'pass',
      'probe.listing': 'pass',
    });
  });

  it('fails each check when its service misbehaves: a restore that needs no confirmation, one that skips the attachments, a backup that writes nothing', async () => {
    const profile = parseYaml(readFileSync(NOTES_PROFILE, 'utf8')) as Record<string, any>;
    const variant = (name: string, change: (p: Record<string, any>) => void): string => {
      const copy = structuredClone(profile);
      change(copy);
      const path = join(work, `${name}.yaml`);
      writeFileSync(path, toYaml(copy));
      return path;
    };
    const noConfirm = variant('no-confirm', (p) => (p.restore.command[2] = p.restore.command[2].replace('[ "$1" = --yes ] ||', 'true ||')));
    const skipsAttachments = variant('skips', (p) => (p.restore.command[2] = p.restore.command[2].replace(/ && rm -rf .*$/, '')));
    const losesARow = variant('loses-a-row', (p) => (p.restore.command[2] = `${p.restore.command[2]} && sqlite3 "$NOTES_DATA/notes.db" "DELETE FROM notes WHERE id = 'todo'"`));
    const empty = variant('empty', (p) => (p.backup.command = ['sh', '-c', 'mkdir "$NOTES_BACKUPS/$(date -u +%Y%m%dT%H%M%SZ)"']));
    const a = readReportOf(await drill(['--profile', noConfirm]));
    expect(statusOf(a)['restore.refuses_without_confirm']).toBe('fail');
    const b = readReportOf(await drill(['--profile', skipsAttachments]));
    expect(statusOf(b)).toMatchObject({ 'store.notes_db.restored': 'pass', 'store.attachments.restored': 'fail' });
    const lost = readReportOf(await drill(['--profile', losesARow]));
    expect(statusOf(lost)).toMatchObject({ 'store.notes_db.restored': 'fail', 'store.attachments.restored': 'pass' });
    expect(lost.checks.find((x) => x.id === 'store.notes_db.restored')!.message).toMatch(/its content differs from the backup \(changed: table notes\)/);
    const c = readReportOf(await drill(['--profile', empty]));
    expect(statusOf(c)['backup.created']).toBe('fail');
    expect(c.checks.find((x) => x.id === 'backup.created')!.message).toMatch(/holds no file/);
  });

  it('a service that never gets healthy after the restore fails service.health; one that never starts at all is an error', async () => {
    const profile = parseYaml(readFileSync(NOTES_PROFILE, 'utf8')) as Record<string, any>;
    const path = join(work, 'never-healthy.yaml');
    // healthy before the restore, never after: the restore leaves a file the start refuses
    const broken = structuredClone(profile);
    broken.restore.command[2] = `${broken.restore.command[2]} && touch "$NOTES_DATA/broken"`;
    broken.service.start[2] = `test -f "$NOTES_DATA/broken" && exit 0; ${broken.service.start[2]}`;
    broken.service.start_timeout = '8s';
    writeFileSync(path, toYaml(broken));
    const report = readReportOf(await drill(['--profile', path]));
    expect(report.verdict).toBe('fail');
    expect(statusOf(report)['service.health']).toBe('fail');
    const dead = structuredClone(profile);
    dead.service.start = ['sh', '-c', 'exit 7'];
    writeFileSync(path, toYaml(dead));
    const { run, files } = await drill(['--profile', path]);
    expect(run.code).toBe(3);
    const error = readReport(files.json);
    expect(error.verdict).toBe('error');
    expect(error.error).toMatch(/notes start failed \(exit 7\)/);
    expect(error.checks.every((c) => c.status === 'skip')).toBe(true);
  });
});

function readReportOf(result: { files: { json: string } }) {
  return readReport(result.files.json);
}

describe('bad profiles: exit 2 naming the field, nothing run', () => {
  const write = (name: string, text: string): string => {
    const path = join(work, name);
    writeFileSync(path, text);
    return path;
  };
  const writeBytes = (name: string, bytes: Buffer): string => {
    const path = join(work, name);
    writeFileSync(path, bytes);
    return path;
  };
  const base = readFileSync(NOTES_PROFILE, 'utf8');
  const cases: [string, () => string[], RegExp][] = [
    ['an unknown name', () => ['--profile', 'nope'], /--profile: "nope" is neither a built-in profile \(atocore, jellycore\) nor a file/],
    ['a missing file', () => ['--profile', join(work, 'absent.yaml')], /--profile: .*absent\.yaml: cannot be read/],
    ['a directory', () => ['--profile', `${work}/`], /--profile: .*: not a regular file/],
    ['not UTF-8', () => ['--profile', writeBytes('latin1.yaml', Buffer.from('name: caf\xe9\n', 'latin1'))], /--profile: .*latin1\.yaml: the file: not UTF-8 text/],
    ['not YAML', () => ['--profile', write('bad.yaml', 'a: [1, 2\n')], /--profile: .*bad\.yaml: not YAML/],
    ['a schema violation, named by its place', () => ['--profile', write('empty-start.yaml', base.replace(/ {2}start: \[ sh.*\n/, '  start: []\n'))], /--profile: .*empty-start\.yaml: not an atocore-drill\/profile@1 profile: service\.start must NOT have fewer than 1 items/],
    ['an unknown field', () => ['--profile', write('extra.yaml', `${base}\nextra: 1\n`)], /must NOT have additional properties/],
    ['an unknown placeholder', () => ['--profile', write('placeholder.yaml', base.replace('${port:http}/"', '${port:web}/"'))], /service\.health\.url: \$\{port:web\} is not a placeholder this profile knows/],
    ['a store outside the drill root (real data)', () => ['--profile', write('real.yaml', base.replace('path: ${drill_root}/data/notes.db', 'path: /var/lib/notes/notes.db'))], /stores\.0\.path: "\/var\/lib\/notes\/notes\.db" is not under \$\{drill_root\}/],
    ['a backup root that climbs out of the drill root', () => ['--profile', write('climb.yaml', base.replace('root: ${drill_root}/backups', 'root: ${drill_root}/../backups'))], /backup\.root: .* is not under \$\{drill_root\}/],
    ['a duplicate store id', () => ['--profile', write('dup.yaml', base.replace('id: attachments', 'id: notes_db'))], /stores: the id "notes_db" is used twice/],
    ['an unknown variable', () => ['--profile', NOTES_PROFILE, '--profile-var', 'nope=1'], /--profile-var: nope: not a variable of .*notes-service\.yaml \(its variables: python\)/],
    ['a variable that is not NAME=VALUE', () => ['--profile', NOTES_PROFILE, '--profile-var', 'oops'], /--profile-var: "oops" is not NAME=VALUE/],
    ['an AtoCore-only flag', () => ['--profile', 'jellycore', '--image', 'x'], /--image is for the AtoCore drill; --profile jellycore runs the profile's own commands/],
    ['variables for the AtoCore drill', () => ['--profile-var', 'a=1'], /--profile-var sets variables of a profile file; the AtoCore profile has none/],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    const run = await runCli(['drill', ...args(), '--work-dir', work]);
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(readdirSync(work).filter((n) => n.startsWith('atocore-drill-'))).toEqual([]);
  });

  it('a FIFO or a symlink as the profile: refused without blocking', async () => {
    const fifo = join(work, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    const link = join(work, 'link.yaml');
    symlinkSync(NOTES_PROFILE, link);
    for (const path of [fifo, link]) {
      const run = await runCli(['drill', '--profile', path], { timeoutMs: 20_000 });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/not a regular file/);
    }
  });

  it('the published schema is the one the loader checks, and the built-in profile satisfies it', () => {
    const schema = JSON.parse(readFileSync(join(PROJECT_ROOT, 'schema/profile.schema.json'), 'utf8')) as { properties: Record<string, unknown> };
    const jelly = parseYaml(readFileSync(JELLYCORE_PROFILE, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(jelly).every((key) => key in schema.properties)).toBe(true);
    expect(existsSync(CORRECTED)).toBe(true);
    chmodSync(work, 0o755);
  });
});
