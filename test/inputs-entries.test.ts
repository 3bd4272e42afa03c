import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readActionInputs } from '../src/action/inputs.js';
import { parseDrillFlags } from '../src/cli/options.js';
import { parseValidateFlags } from '../src/cli/validate.js';
import { FieldError } from '../src/inputs/fields.js';

// The two entries read their users' values their own way (flags; INPUT_* variables, as the runner sets them)
// and hand them to the same rules: the same typed inputs, the same refusals, each named for its user.

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-entries-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const seed = join(work, 'seed');
mkdirSync(seed);
// a directory Docker cannot bind-mount: its bind strings split on ':'
const colonDir = join(work, 'a:b');
mkdirSync(colonDir);
const knownHosts = join(work, 'known_hosts');
writeFileSync(knownHosts, '');
const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n';

const saved = { ...process.env };
beforeEach(() => {
  for (const name of Object.keys(process.env)) if (name.startsWith('INPUT_')) delete process.env[name];
  process.env.GITHUB_WORKSPACE = work;
});
afterEach(() => {
  process.env = { ...saved };
});

function inputs(values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values)) process.env[`INPUT_${name.toUpperCase()}`] = value;
}

function refusal(read: () => unknown): FieldError {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(FieldError);
    return error as FieldError;
  }
  throw new Error('accepted');
}

describe('the action and the CLI: one set of rules', () => {
  it('the same drill, asked for by flags and by inputs, is the same typed object', () => {
    inputs({ image: 'atocore:2', 'from-image': 'atocore:1', seed: 'seed', timeout: '20m', faults: 'restore-skips-registry', 'include-chroma': 'true', 'work-dir': 'seed' });
    const action = readActionInputs().drill!;
    const cli = parseDrillFlags({ image: 'atocore:2', fromImage: 'atocore:1', seed, timeout: '20m', fault: ['restore-skips-registry'], includeChroma: true, workDir: seed });
    expect(cli.workDir).toBe(seed);
    const reports = { reportJson: null, junit: null, summary: null };
    // the budget named for each user, in every message about it
    expect([action.timeoutName, cli.timeoutName]).toEqual(['input timeout', '--timeout']);
    expect({ ...action, ...reports, timeoutName: cli.timeoutName }).toEqual(cli);
    expect(action.reportJson).toBe(join(work, 'atocore-drill-report', 'report.json'));
  });

  it('the same validation, asked for by flags and by inputs, is the same typed object but for the key', () => {
    inputs({ mode: 'validate', 'ssh-host': 'dalidou', 'ssh-port': '2222', 'ssh-key': KEY, 'known-hosts': 'known_hosts', root: '/srv/atocore', rpo: '6h', deep: 'true' });
    const action = readActionInputs().validate!;
    const cli = parseValidateFlags({ ssh: 'atocore@dalidou:2222', knownHosts, identity: knownHosts, root: '/srv/atocore', rpo: '6h', deep: true }, {});
    const reports = { reportJson: null, junit: null, summary: null };
    expect([action.timeoutName, cli.timeoutName]).toEqual(['input timeout', '--timeout']);
    expect({ ...action, ...reports, identity: cli.identity, timeoutName: cli.timeoutName }).toEqual(cli);
    expect(action.identity).toMatchObject({ kind: 'text', what: 'input ssh-key' });
  });

  it.each<[string, Record<string, string>, { flags: Parameters<typeof parseDrillFlags>[0] }, string, string]>([
    ['faults with your own AtoCore', { faults: 'restore-skips-registry', command: 'python3 -m atocore', 'backup-cli': 'python3 -m atocore.ops.backup' }, { flags: { fault: ['restore-skips-registry'], command: 'python3 -m atocore', backupCli: 'python3 -m atocore.ops.backup' } }, 'input faults switches faults of the AtoCore stand-in; your AtoCore (input command) has none', '--fault switches faults of the AtoCore stand-in; your AtoCore (--command) has none'],
    ['a command with an image', { image: 'atocore:2', command: 'a', 'backup-cli': 'b' }, { flags: { image: 'atocore:2', command: 'a', backupCli: 'b' } }, 'input command runs AtoCore as a local process; it cannot go with input image', '--command runs AtoCore as a local process; it cannot go with --image'],
    ['from-image alone', { 'from-image': 'atocore:1' }, { flags: { fromImage: 'atocore:1' } }, 'input from-image needs input image', '--from-image needs --image'],
    ['a timeout without a unit', { timeout: '10' }, { flags: { timeout: '10' } }, 'input timeout: "10" is not a duration', '--timeout: "10" is not a duration'],
    ['a work directory that is a file', { image: 'atocore:2', 'work-dir': 'known_hosts' }, { flags: { image: 'atocore:2', workDir: knownHosts } }, `input work-dir: ${knownHosts} is not a directory`, `--work-dir: ${knownHosts} is not a directory`],
    ['a work directory Docker cannot mount', { 'work-dir': 'a:b' }, { flags: { workDir: colonDir } }, `input work-dir: ${colonDir} holds a ':' or ','`, `--work-dir: ${colonDir} holds a ':' or ','`],
    ['a work directory that does not exist', { 'work-dir': 'nowhere' }, { flags: { workDir: join(work, 'nowhere') } }, `input work-dir: ${join(work, 'nowhere')} is not a directory`, `--work-dir: ${join(work, 'nowhere')} is not a directory`],
  ])('%s: refused by both, named by each', (_what, values, cli, actionSays, cliSays) => {
    inputs(values);
    const fromAction = refusal(() => readActionInputs());
    const fromCli = refusal(() => parseDrillFlags(cli.flags));
    expect(fromAction.message).toContain(actionSays);
    expect(fromCli.message).toContain(cliSays);
    expect(fromAction.field).toBe(fromCli.field);
  });

  it('a report folder nothing can be written in is named as input report-dir', () => {
    inputs({ 'report-dir': '/proc/atocore-drill-report' });
    expect(refusal(() => readActionInputs()).message).toMatch(/^input report-dir: cannot write under \/proc/);
  });
});
