import { afterEach, describe, expect, it } from 'vitest';
import { readActionInputs } from '../src/action/inputs.js';
import { parseDrillFlags } from '../src/cli/options.js';
import type { ProcessResult } from '../src/common/child-process.js';
import { judgeOffsite } from '../src/engine/offsite.js';
import { judgeDryRun, judgeRotation, retentionPromise, ROTATION_CHECK_IDS, type AgedBackup, type RotationObservation } from '../src/engine/rotation.js';
import { CORRUPTION_KINDS, judgeVerification, verificationNotEvidence, verifierAnswer, type VerifierAnswer } from '../src/engine/verification.js';
import { planRetention } from '../src/validation/retention.js';
import { isSnapshotStamp, stampOf, stampTime } from '../src/atocore/stamp.js';
import { ATOCORE_CORRUPTIONS, ATOCORE_RETENTION, readValidateAnswer, rotationStamps } from '../src/atocore/drill/beyond-restore.js';
import { planDrill, plannedCheckIds } from '../src/atocore/drill/plan.js';
import { drillNames } from '../src/inputs/rules.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);

function byId(checks: readonly { id: string; status: string; message: string }[], id: string) {
  const found = checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id} in ${checks.map((c) => c.id).join(', ')}`);
  return found;
}


describe('retentionPromise', () => {
  it('keepDays: everything younger than the days is promised, the rest expired, the newest never expired', () => {
    const backups: AgedBackup[] = [0.5, 3, 6.9, 7.5, 8, 30].map((age) => ({ name: `b${age}`, time: NOW - age * DAY }));
    const promise = retentionPromise({ keepDays: 7 }, backups, NOW);
    expect(promise.promised).toEqual(['b6.9', 'b3', 'b0.5']);
    expect(promise.expired).toEqual(['b30', 'b8', 'b7.5']);
    expect(promise.newest).toBe('b0.5');
  });

  it('keepDays with every backup old: nothing promised, the newest is still not expired', () => {
    const backups: AgedBackup[] = [9, 10, 20].map((age) => ({ name: `b${age}`, time: NOW - age * DAY }));
    const promise = retentionPromise({ keepDays: 7 }, backups, NOW);
    expect(promise.promised).toEqual([]);
    expect(promise.expired).toEqual(['b20', 'b10']);
    expect(promise.newest).toBe('b9');
  });

  it('calendar policy: the newest of each of 7 days, 4 Sundays and 6 firsts, the same set as AtoCore cleanup keeps', () => {
    // two snapshots a day (06:00 and 18:00) across 200 days, one day in five missing
    const stamps = [];
    for (let day = 0; day < 200; day++) {
      if (day % 5 === 3) continue;
      for (const hour of [6, 18]) stamps.push(stampOf(new Date(NOW - day * DAY - 12 * 3_600_000 + hour * 3_600_000)));
    }
    expect(stamps.every(isSnapshotStamp)).toBe(true);
    const backups = stamps.map((name) => ({ name, time: stampTime(name) }));
    const promise = retentionPromise({ daily: 7, weekly: 4, monthly: 6 }, backups, NOW);
    const reference = planRetention(stamps);
    expect([...promise.promised].sort()).toEqual(reference.kept);
    expect([...promise.expired].sort()).toEqual(reference.prune);
    // the later snapshot of a day is the one kept
    expect(promise.promised.every((stamp) => stamp.slice(9, 11) === '18')).toBe(true);
    // 200 days reach back past 6 firsts and 4 Sundays beyond the last 7 days
    expect(promise.promised.length).toBeGreaterThanOrEqual(7 + 2 + 5);
    expect(promise.expired.length).toBeGreaterThan(200);
  });
});

function rotation(overrides: Partial<RotationObservation> = {}): RotationObservation {
  const base: RotationObservation = {
    backups: [
      { name: 'old1', ageDays: 30 },
      { name: 'old2', ageDays: 10 },
      { name: 'young1', ageDays: 2 },
      { name: 'young2', ageDays: 0 },
    ],
    promised: ['young1', 'young2'],
    expired: ['old1', 'old2'],
    newest: 'young2',
    foreign: ['lost+found'],
    rootSurvived: true,
    survivors: ['young1', 'young2', 'lost+found'],
  };
  return { ...base, ...overrides };
}

describe('judgeDryRun', () => {
  it('passes an untouched root, fails naming the backups a dry run deleted or changed, or a root it deleted', () => {
    expect(judgeDryRun({ added: [], removed: [], changed: [] }, true).status).toBe('pass');
    const deleted = judgeDryRun({ added: [], removed: ['20260101T060000Z/db/atocore.db', '20260101T060000Z/backup-metadata.json'], changed: [] }, true);
    expect(deleted.status).toBe('fail');
    expect(deleted.message).toContain('2 file(s) deleted (20260101T060000Z)');
    expect(judgeDryRun({ added: [], removed: [], changed: [] }, false).status).toBe('fail');
  });
});

describe('judgeRotation', () => {
  it('passes a rotation that keeps the promised, the newest, the root and the foreign, and removes the expired', () => {
    const checks = judgeRotation(rotation());
    expect(checks.map((c) => c.id)).toEqual([...ROTATION_CHECK_IDS]);
    expect(checks.map((c) => c.status)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass']);
  });

  it('keeps_promised fails naming the promised backup deleted', () => {
    const checks = judgeRotation(rotation({ survivors: ['young2', 'lost+found'] }));
    const promised = byId(checks, 'rotation.keeps_promised');
    expect(promised.status).toBe('fail');
    expect(promised.message).toContain('young1 (2 days old)');
    expect(byId(checks, 'rotation.keeps_newest').status).toBe('pass');
  });

  it('removes_expired warns naming an expired backup that survived', () => {
    const checks = judgeRotation(rotation({ survivors: ['old2', 'young1', 'young2', 'lost+found'] }));
    const expired = byId(checks, 'rotation.removes_expired');
    expect(expired.status).toBe('warn');
    expect(expired.message).toContain('old2 (10 days old)');
    expect(expired.message).not.toContain('old1');
    expect(checks.filter((c) => c.status !== 'pass').map((c) => c.id)).toEqual(['rotation.removes_expired']);
  });

  it('keeps_newest fails when the newest is deleted because every backup is old; the newest is never counted as expired', () => {
    const checks = judgeRotation(
      rotation({
        backups: [
          { name: 'old1', ageDays: 30 },
          { name: 'old2', ageDays: 9 },
        ],
        promised: [],
        expired: ['old1', 'old2'],
        newest: 'old2',
        survivors: ['lost+found'],
      }),
    );
    expect(byId(checks, 'rotation.keeps_newest').status).toBe('fail');
    expect(byId(checks, 'rotation.keeps_newest').message).toContain('old2');
    expect(byId(checks, 'rotation.keeps_promised').status).toBe('skip');
    // a rotation that keeps the newest of all-old backups is not warned for keeping it
    const kept = judgeRotation(rotation({ backups: [{ name: 'old1', ageDays: 30 }, { name: 'old2', ageDays: 9 }], promised: [], expired: ['old1', 'old2'], newest: 'old2', survivors: ['old2', 'lost+found'] }));
    expect(byId(kept, 'rotation.keeps_newest').status).toBe('pass');
    expect(byId(kept, 'rotation.removes_expired').status).toBe('pass');
  });

  it('keeps_root fails when the backup root itself is gone (and so are the promised and the newest)', () => {
    const checks = judgeRotation(rotation({ rootSurvived: false, survivors: [] }));
    expect(byId(checks, 'rotation.keeps_root').status).toBe('fail');
    expect(byId(checks, 'rotation.keeps_newest').status).toBe('fail');
    expect(byId(checks, 'rotation.keeps_promised').status).toBe('fail');
    expect(byId(checks, 'rotation.keeps_foreign').status).toBe('fail');
  });

  it('survivors reported for a root that is gone are not believed', () => {
    const checks = judgeRotation(rotation({ rootSurvived: false }));
    expect(byId(checks, 'rotation.keeps_newest').status).toBe('fail');
  });

  it('keeps_foreign fails naming the directory not named like a backup', () => {
    const checks = judgeRotation(rotation({ survivors: ['young1', 'young2'] }));
    const foreign = byId(checks, 'rotation.keeps_foreign');
    expect(foreign.status).toBe('fail');
    expect(foreign.message).toContain('lost+found');
  });

  it('skips what the drill gave it nothing to judge', () => {
    const checks = judgeRotation({ backups: [], promised: [], expired: [], newest: null, foreign: [], rootSurvived: true, survivors: [] });
    expect(checks.map((c) => c.status)).toEqual(['pass', 'skip', 'skip', 'skip', 'skip']);
  });
});

function processResult(overrides: Partial<ProcessResult> = {}): ProcessResult {
  return { argv: ['verify'], exitCode: 0, signal: null, stdout: '', stderr: '', durationMs: 10, timedOut: false, aborted: false, ...overrides };
}

const byExit = (result: ProcessResult): VerifierAnswer =>
  result.exitCode === 0 ? { said: 'accepted', detail: 'exit 0' } : { said: 'rejected', detail: `exit ${String(result.exitCode)}` };

describe('judgeVerification', () => {
  const rejected: VerifierAnswer = { said: 'rejected', detail: 'db_integrity_check_failed' };
  const accepted: VerifierAnswer = { said: 'accepted', detail: 'valid' };

  it('passes a verifier that accepts the good backup and rejects every corrupted copy', () => {
    const checks = judgeVerification({ good: accepted, corrupted: CORRUPTION_KINDS.map((kind) => ({ kind, target: 'x', answer: rejected })) });
    expect(checks.map((c) => c.id)).toEqual([
      'verification.accepts_good',
      'verification.catches_corrupt_database',
      'verification.catches_truncated_archive',
      'verification.catches_emptied_directory',
      'verification.catches_missing_file',
      'verification.catches_corrupt_json',
    ]);
    expect(checks.every((c) => c.status === 'pass')).toBe(true);
  });

  it('accepts_good fails when the good backup is rejected or gets no verdict', () => {
    expect(judgeVerification({ good: rejected, corrupted: [] })[0]!.status).toBe('fail');
    expect(judgeVerification({ good: { said: 'could_not_tell', detail: 'no JSON' }, corrupted: [] })[0]!.status).toBe('fail');
  });

  it('catches_<kind> fails when the corrupted copy is accepted, naming what was corrupted; warns when no verdict', () => {
    const checks = judgeVerification({
      good: accepted,
      corrupted: [
        { kind: 'corrupt_database', target: 'db/atocore.db', answer: accepted },
        { kind: 'corrupt_json', target: 'config/project-registry.json', answer: { said: 'could_not_tell', detail: 'no verdict' } },
      ],
    });
    expect(byId(checks, 'verification.catches_corrupt_database').status).toBe('fail');
    expect(byId(checks, 'verification.catches_corrupt_database').message).toContain('db/atocore.db');
    expect(byId(checks, 'verification.catches_corrupt_json').status).toBe('warn');
  });

  it('a call the harness interrupted, cut or killed is not evidence: skip, and the step is told why', () => {
    for (const overrides of [{ aborted: true }, { timedOut: true }, { signal: 'SIGKILL' as const, exitCode: null }, { exitCode: 137 }, { spawnError: 'ENOENT' }]) {
      const answer = verifierAnswer(processResult({ exitCode: 1, ...overrides }), 'verify the truncated copy', byExit);
      expect(answer.said).toBe('not_evidence');
      const observation = { good: accepted, corrupted: [{ kind: 'truncated_archive' as const, target: 'knowledge.tar.gz', answer }] };
      expect(judgeVerification(observation)[1]!.status).toBe('skip');
      expect(verificationNotEvidence(observation)).toContain('verify the truncated copy');
    }
    // a crash of the verifier's own (SIGSEGV) is its answer
    expect(verifierAnswer(processResult({ exitCode: null, signal: 'SIGSEGV' }), 'verify', byExit).said).toBe('rejected');
    expect(verificationNotEvidence({ good: accepted, corrupted: [{ kind: 'missing_file', target: 'x', answer: rejected }] })).toBeNull();
  });
});

describe('judgeOffsite', () => {
  const expected = { 'nanoclaw.db': 'a', 'oracle.db': 'b', 'chromadb/x': 'c' };

  it('passes only when every file arrived with an equal hash (extras are noted, not failed)', () => {
    const result = judgeOffsite({ backup: '20261129_060000', expected, arrived: { ...expected, 'extra.txt': 'z' }, remote: 'offsite:/r/2026-11-29' });
    expect(result.status).toBe('pass');
    expect(result.evidence['extra']).toEqual(['extra.txt']);
  });

  it('fails when nothing arrived (no directory, or an empty one)', () => {
    expect(judgeOffsite({ backup: 'b', expected, arrived: null, remote: 'r' }).status).toBe('fail');
    const empty = judgeOffsite({ backup: 'b', expected, arrived: {}, remote: 'r' });
    expect(empty.status).toBe('fail');
    expect(empty.message).toContain('nothing');
  });

  it('fails naming a missing file and a differing one', () => {
    const result = judgeOffsite({ backup: 'b', expected, arrived: { 'nanoclaw.db': 'a', 'oracle.db': 'DIFFERENT' }, remote: 'r' });
    expect(result.status).toBe('fail');
    expect(result.message).toContain('chromadb/x');
    expect(result.message).toContain('oracle.db');
    expect(result.evidence['missing']).toEqual(['chromadb/x']);
    expect(result.evidence['differing']).toEqual(['oracle.db']);
  });

  it('skips an empty newest backup: nothing to see arrive', () => {
    expect(judgeOffsite({ backup: 'b', expected: {}, arrived: {}, remote: 'r' }).status).toBe('skip');
  });
});

describe('AtoCore: what its drills beyond restore know of it', () => {
  it('rotationStamps: old stamps only, two on some days, Sundays and 1sts back far enough that each rule keeps some and lets some go', () => {
    const stamps = rotationStamps(NOW);
    expect(stamps.every(isSnapshotStamp)).toBe(true);
    expect(new Set(stamps).size).toBe(stamps.length);
    expect(stamps.every((stamp) => stampTime(stamp) < NOW - 12 * 3_600_000)).toBe(true);
    const real = stampOf(new Date(NOW));
    const promise = retentionPromise(ATOCORE_RETENTION, [...stamps, real].map((name) => ({ name, time: stampTime(name) })), NOW);
    const sundays: string[] = stamps.filter((stamp) => new Date(stampTime(stamp)).getUTCDay() === 0);
    const firsts: string[] = stamps.filter((stamp) => stamp.slice(6, 8) === '01');
    expect(sundays.length).toBeGreaterThan(4);
    expect(firsts.length).toBeGreaterThan(6);
    expect(promise.expired.some((stamp) => sundays.includes(stamp))).toBe(true);
    expect(promise.expired.some((stamp) => firsts.includes(stamp))).toBe(true);
    // a day with two: the earlier goes
    expect(promise.expired.filter((stamp) => stamp.endsWith('T060000Z') && stamps.includes(`${stamp.slice(0, 8)}T180000Z` as never)).length).toBe(2);
    expect(promise.newest).toBe(real);
  });

  it('readValidateAnswer: valid with no errors accepts; an error, valid false or a non-zero exit rejects; anything else has no verdict', () => {
    const call = (json: Record<string, unknown> | undefined, exitCode = 0) => ({ args: ['validate', 'x'], json, result: processResult({ exitCode, stderr: 'Traceback\nValueError: boom' }) });
    expect(readValidateAnswer(call({ valid: true, errors: [] })).said).toBe('accepted');
    expect(readValidateAnswer(call({ valid: false, errors: [] })).said).toBe('rejected');
    // after the early errors AtoCore leaves "valid" out
    expect(readValidateAnswer(call({ errors: ['metadata_missing: x'] }))).toEqual({ said: 'rejected', detail: 'metadata_missing: x' });
    expect(readValidateAnswer(call({ valid: true, errors: ['registry_invalid_json: y'] })).said).toBe('rejected');
    expect(readValidateAnswer(call(undefined, 1)).detail).toContain('ValueError: boom');
    expect(readValidateAnswer(call(undefined)).said).toBe('could_not_tell');
    expect(readValidateAnswer(call({ errors: [] })).said).toBe('could_not_tell');
  });

  it('planDrill: without drills the restore drill unchanged; others come before teardown, verification before rotation; alone they back up first', () => {
    expect(planDrill({ includeChroma: true, drills: ['restore'] })).toEqual(planDrill({ includeChroma: true }));
    const all = planDrill({ includeChroma: false, drills: ['restore', 'rotation', 'verification'] }).map((s) => s.id);
    expect(all.slice(0, -3)).toEqual(planDrill({ includeChroma: false }).map((s) => s.id).slice(0, -1));
    expect(all.slice(-3)).toEqual(['verification', 'rotation', 'teardown']);
    expect(planDrill({ includeChroma: false, drills: ['rotation'] }).map((s) => s.id)).toEqual(['start', 'seed', 'backup', 'rotation', 'teardown']);
    expect(plannedCheckIds(planDrill({ includeChroma: false, drills: ['verification'] }))).toEqual([
      'backup.created',
      'backup.valid',
      'backup.independent_integrity',
      'verification.accepts_good',
      ...ATOCORE_CORRUPTIONS.map((c) => `verification.catches_${c.kind}`),
    ]);
  });

  it('drillNames: commas or spaces, known names in a fixed order without repeats, the fallback when absent', () => {
    expect(drillNames('drills', undefined, ['restore'])).toEqual(['restore']);
    expect(drillNames('drills', 'verification, rotation restore,rotation', [])).toEqual(['restore', 'verification', 'rotation']);
    expect(() => drillNames('drills', 'restore,Rotation', [])).toThrow(/"Rotation" is not a drill \(known: restore, verification, offsite, rotation\)/);
    expect(() => drillNames('drills', '', [])).toThrow(/names no drill/);
  });
});

describe('drills as the action and the CLI ask for them', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });
  function actionInputs(values: Record<string, string>) {
    for (const name of Object.keys(process.env)) if (name.startsWith('INPUT_')) delete process.env[name];
    process.env.GITHUB_WORKSPACE = process.cwd();
    for (const [name, value] of Object.entries(values)) process.env[`INPUT_${name.toUpperCase()}`] = value;
    return readActionInputs();
  }

  it('input drills and --drills give the same list; empty or absent: restore', () => {
    expect(actionInputs({ drills: 'verification,rotation' }).drill!.drills).toEqual(['verification', 'rotation']);
    expect(parseDrillFlags({ drills: 'verification,rotation' }).drills).toEqual(['verification', 'rotation']);
    expect(actionInputs({ drills: '' }).drill!.drills).toEqual(['restore']);
    expect(parseDrillFlags({}).drills).toEqual(['restore']);
  });

  it('offsite is refused for AtoCore, named for each user; drills is refused in mode merge', () => {
    expect(() => actionInputs({ drills: 'restore,offsite' })).toThrow(/^input drills: offsite: AtoCore's backup module has no off-site step/);
    expect(() => parseDrillFlags({ drills: 'restore,offsite' })).toThrow(/^--drills: offsite: AtoCore's backup module has no off-site step/);
    expect(() => actionInputs({ mode: 'merge', reports: 'a.json', drills: 'rotation' })).toThrow(/input drills is not for mode merge/);
  });
});
