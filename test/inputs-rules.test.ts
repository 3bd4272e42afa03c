import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ACTION_NAMES } from '../src/action/inputs.js';
import { CLI_NAMES } from '../src/cli/options.js';
import { ExitCode } from '../src/common/errors.js';
import { drillInputs, type RawDrillInputs } from '../src/inputs/drill.js';
import { FIELD_IDS, FieldError, type FieldId, type FieldNames } from '../src/inputs/fields.js';
import { validateInputs, type RawValidateInputs } from '../src/inputs/validate.js';
import { loadLedger } from '../src/validation/ledger.js';
import { resolveLocalSnapshotsDir } from '../src/validation/local-store.js';

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-inputs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const backups = join(work, 'backups');
mkdirSync(join(backups, 'snapshots'), { recursive: true });
const knownHostsFile = join(work, 'known_hosts');
writeFileSync(knownHostsFile, '');
const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----';
const ssh: RawValidateInputs = { ssh: 'atocore@dalidou', knownHosts: { path: knownHostsFile }, identity: { text: KEY } };

const ENTRIES: ReadonlyArray<[entry: string, names: FieldNames]> = [
  ['CLI', CLI_NAMES],
  ['action', ACTION_NAMES],
];

/** What a rule says, given how the entry names fields. */
type Says = (n: FieldNames) => string;

function violation(run: () => unknown, names: FieldNames): FieldError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(FieldError);
    return error as FieldError;
  }
  throw new Error(`accepted with ${names.one('timeout')}`);
}

/** Each bad input through both entries' names: the same field, the same words but for the names, exit 2. */
function expectViolation(run: (names: FieldNames) => unknown, field: FieldId, says: Says): void {
  const wordings: string[] = [];
  for (const [, names] of ENTRIES) {
    const error = violation(() => run(names), names);
    expect(error.field).toBe(field);
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toContain(says(names));
    // the probe file a writability check tries has a random name
    wordings.push(error.namedBy(FIELD_IDS).message.replace(/\.atocore-drill-probe-[\w-]+/g, '.atocore-drill-probe'));
  }
  expect(new Set(wordings).size, wordings.join('\n')).toBe(1);
}

describe('drill input rules: one violation, named by each entry', () => {
  const drill = (raw: Partial<RawDrillInputs>) => (names: FieldNames) => drillInputs({ timeout: '10m', ...raw }, names, work);
  it.each<[string, Partial<RawDrillInputs>, FieldId, Says]>([
    ['a duration without a unit', { timeout: '10' }, 'timeout', (n) => `${n.one('timeout')}: "10" is not a duration`],
    ['a duration that is a word', { timeout: 'soon' }, 'timeout', (n) => `${n.one('timeout')}: "soon" is not a duration`],
    ['fail-on', { failOn: 'sometimes' }, 'failOn', (n) => `${n.one('failOn')}: "sometimes" is not one of fail, warn`],
    ['an unknown fault', { faults: ['restore-eats-cat'] }, 'faults', (n) => `${n.one('faults')}: "restore-eats-cat" is not a stand-in fault`],
    ['from-image alone', { fromImage: 'atocore:1' }, 'fromImage', (n) => `${n.one('fromImage')} needs ${n.one('image')}`],
    ['command without backup-cli', { command: 'python3 -m atocore' }, 'backupCli', (n) => `${n.both('command', 'backupCli')} go together`],
    ['backup-cli without command', { backupCli: 'python3 -m atocore.ops.backup' }, 'command', (n) => `${n.both('command', 'backupCli')} go together`],
    ['shell syntax in a command', { command: 'python3 -m atocore > log', backupCli: 'x' }, 'command', (n) => `${n.one('command')}: "python3 -m atocore > log" uses shell syntax`],
    ['a command and an image', { image: 'atocore:2', command: 'a', backupCli: 'b' }, 'command', (n) => `${n.one('command')} runs AtoCore as a local process; it cannot go with ${n.one('image')}`],
    ['faults with your own AtoCore', { faults: ['restore-skips-registry'], command: 'a', backupCli: 'b' }, 'faults', (n) => `${n.one('faults')} switches faults of the AtoCore stand-in; your AtoCore (${n.one('command')}) has none`],
    ['a seed that is not there', { seed: 'no/such/seed' }, 'seed', (n) => `${n.one('seed')}: ${join(work, 'no/such/seed')} is not a directory`],
    ['an unknown runtime', { runtime: 'vm' }, 'runtime', (n) => `${n.one('runtime')}: "vm" is not one of process, container`],
    ['a report over a directory', { reportJson: work }, 'reportJson', (n) => `${n.one('reportJson')}: ${work} is a directory`],
    ['a report where nothing can be written', { junit: '/proc/atocore-drill.xml' }, 'junit', (n) => `${n.one('junit')}: cannot write under /proc`],
    ['two reports in one file', { reportJson: join(work, 'r'), summary: join(work, 'r') }, 'summary', (n) => `${n.one('reportJson')} and ${n.one('summary')} name the same file`],
  ])('%s', (_what, raw, field, says) => expectViolation(drill(raw), field, says));

  it('a value that looks like a field name stays the value', () => {
    const error = violation(() => drillInputs({ timeout: '\u0000timeout\u0000' }, CLI_NAMES, work), CLI_NAMES);
    expect(error.message).toBe('--timeout: "\u0000timeout\u0000" is not a duration; write it as a number with a unit (ms, s, m, h, d), e.g. 90s, 15m, 1h30m');
  });

  it('good input is the same typed object whoever names the fields', () => {
    const raw: RawDrillInputs = { image: 'atocore:2', fromImage: 'atocore:1', faults: ['restore-skips-registry'], timeout: '90s', reportJson: join(work, 'report.json'), failOn: 'warn' };
    const cli = drillInputs(raw, CLI_NAMES, work);
    // the same but for how the budget is named in messages
    expect({ ...drillInputs(raw, ACTION_NAMES, work), timeoutName: cli.timeoutName }).toEqual(cli);
    expect(cli).toMatchObject({ runtime: 'container', image: 'atocore:2', fromImage: 'atocore:1', timeoutMs: 90_000, failOn: 'warn', reportJson: join(work, 'report.json'), junit: null });
  });
});

describe('validate input rules: one violation, named by each entry', () => {
  const validate = (raw: RawValidateInputs) => (names: FieldNames) => validateInputs(raw, names, { base: work, env: {} });
  it.each<[string, RawValidateInputs, FieldId, Says]>([
    ['neither a directory nor a host', {}, 'dir', (n) => `give exactly one of ${n.one('dir')} BACKUP_ROOT (this machine) and ${n.one('ssh')}`],
    ['a root with a directory', { dir: backups, root: '/srv' }, 'root', (n) => `${n.one('root')} goes with ${n.one('ssh')}`],
    ['a directory that is not there', { dir: 'nowhere' }, 'dir', (n) => `${n.one('dir')}: ${join(work, 'nowhere')} is not a directory`],
    ['a bad address', { ...ssh, ssh: 'atocore@dalidou:99999' }, 'ssh', (n) => `${n.one('ssh')}: "atocore@dalidou:99999" has an invalid port`],
    ['a relative root', { ...ssh, root: 'srv/atocore' }, 'root', (n) => `${n.one('root')}: "srv/atocore" is not an absolute path on the host`],
    ['a root the shell would expand', { ...ssh, root: '/srv/$(reboot)' }, 'root', (n) => `${n.one('root')}: "/srv/$(reboot)" must be an absolute path made of`],
    ['SSH without known_hosts', { ssh: 'dalidou', identity: { text: KEY } }, 'knownHosts', (n) => `${n.one('knownHosts')} FILE is required with SSH`],
    ['a known_hosts file that is not there', { ...ssh, knownHosts: { path: 'no/such/known_hosts' } }, 'knownHosts', (n) => `${n.one('knownHosts')}: ${join(work, 'no/such/known_hosts')} does not exist`],
    ['a key that is not one', { ...ssh, identity: { text: 'hunter2' } }, 'identity', (n) => `${n.one('identity')}: not a private key`],
    ['SSH without a key', { ssh: 'dalidou', knownHosts: { path: knownHostsFile } }, 'identity', (n) => `no SSH key: give ${n.one('identity')} FILE`],
    ['an RPO that is a word', { ...ssh, rpo: 'daily' }, 'rpo', (n) => `${n.one('rpo')}: "daily" is not a duration`],
    ['an off-host copy with a relative path', { ...ssh, offhost: 'nas:relative/path' }, 'offhost', (n) => `${n.one('offhost')}: "nas:relative/path" is not [USER@]HOST[:PORT]:PATH`],
    ['SSH inputs without SSH', { dir: backups, knownHosts: { path: knownHostsFile } }, 'knownHosts', (n) => `${n.one('knownHosts')} is for SSH: it goes with ${n.one('ssh')} or an ${n.one('offhost')} HOST:PATH`],
    ['max-deep without a ledger', { dir: backups, maxDeep: '3' }, 'maxDeep', (n) => `${n.one('maxDeep')} needs ${n.one('ledger')} FILE`],
    ['a ledger that is a directory', { dir: backups, ledger: backups }, 'ledger', (n) => `${n.one('ledger')}: ${backups} is a directory, not a file`],
    ['a report over the ledger', { dir: backups, ledger: 'l.json', summary: join(work, 'l.json') }, 'summary', (n) => `${n.one('ledger')} and ${n.one('summary')} name the same file`],
    ['too much concurrency', { dir: backups, concurrency: '9' }, 'concurrency', (n) => `${n.one('concurrency')}: "9" is not a whole number from 1 to 8`],
    ['a time without a zone', { dir: backups, now: '2026-04-08T07:00:00' }, 'now', (n) => `${n.one('now')}: "2026-04-08T07:00:00" is not an ISO-8601 time with a zone`],
    ['a stamp that is not one', { dir: backups, stamps: ['yesterday'] }, 'stamp', (n) => n.one('stamp')],
    ['trust on first use without a file to add to', { ...ssh, knownHosts: { text: 'dalidou ssh-ed25519 AAAA' }, acceptNewHostKey: true }, 'acceptNewHostKey', (n) => `${n.one('acceptNewHostKey')} needs ${n.one('knownHosts')} as a file`],
  ])('%s', (_what, raw, field, says) => expectViolation(validate(raw), field, says));

  it('names: the CLI by flag, the action by input', () => {
    expect([CLI_NAMES.one('fromImage'), ACTION_NAMES.one('fromImage')]).toEqual(['--from-image', 'input from-image']);
    expect([CLI_NAMES.one('faults'), ACTION_NAMES.one('faults')]).toEqual(['--fault', 'input faults']);
    expect([CLI_NAMES.one('identity'), ACTION_NAMES.one('identity')]).toEqual(['--identity', 'input ssh-key']);
    expect([CLI_NAMES.one('reportJson'), ACTION_NAMES.one('reportJson')]).toEqual(['--report-json', 'input report-dir']);
    expect([CLI_NAMES.both('command', 'backupCli'), ACTION_NAMES.both('command', 'backupCli')]).toEqual(['--command and --backup-cli', 'inputs command and backup-cli']);
  });

  it('a key given as text stays a secret and is named by its input', () => {
    const inputs = validateInputs(ssh, ACTION_NAMES, { base: work, env: {} });
    expect(inputs.identity).toMatchObject({ kind: 'text', what: 'input ssh-key' });
    expect(JSON.stringify(inputs)).not.toContain('AAAA\n');
    expect(inputs.source).toEqual({ kind: 'ssh', address: { user: 'atocore', host: 'dalidou', port: 22 }, root: '/srv/storage/atocore' });
  });
});

describe('domain code says which field; the entry names it', () => {
  it('a backup root without snapshots', async () => {
    const empty = join(work, 'empty');
    mkdirSync(empty);
    const error = (await resolveLocalSnapshotsDir(empty, 'offhost').catch((e: unknown) => e)) as FieldError;
    expect(error).toBeInstanceOf(FieldError);
    expect(error.field).toBe('offhost');
    expect(error.namedBy(CLI_NAMES).message).toMatch(/^--offhost: no snapshots directory under /);
    expect(error.namedBy(ACTION_NAMES).message).toMatch(/^input offhost: no snapshots directory under /);
  });

  it('a ledger that is not one', async () => {
    const file = join(work, 'not-a-ledger.json');
    writeFileSync(file, '{"schema": "something else"}');
    const error = (await loadLedger(file).catch((e: unknown) => e)) as FieldError;
    expect(error.field).toBe('ledger');
    expect(error.namedBy(CLI_NAMES).message).toBe(`--ledger: ${file} is not an atocore-drill ledger (schema atocore-drill/ledger@1); move it away to start a new one`);
  });
});
