import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readActionInputs } from '../src/action/inputs.js';
import { UsageError } from '../src/common/errors.js';
import { FieldError } from '../src/inputs/fields.js';
import { followsForeignLink, foreignLinkOn } from '../src/output/foreign-links.js';
import { checkOutputPlace, writeOutputFile } from '../src/output/output-file.js';
import { runCli } from './support/cli.js';
import { buildSnapshotTree, FIXTURE_NOW, goodTreePlan } from './support/snapshot-tree.js';

/**
 * Output paths against links another user planted in a sticky world-writable directory (the
 * kernel's fs.protected_symlinks rule, applied by the harness itself). Runs as root, as the
 * project's machines do: the "other user" is the real `nobody`, whose links root hands over
 * with lchown (what `ln -s` run as nobody would make).
 */
const NOBODY = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
const REPORTS = { writeThrough: true } as const;
const LEDGER = { writeThrough: false } as const;

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-links-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A fresh /tmp of our own (root's, mode 1777) and a place outside it holding root's files. */
function scene(name: string): { sticky: string; safe: string; victim: string } {
  const base = join(work, name);
  const sticky = join(base, 'tmp');
  const safe = join(base, 'safe');
  mkdirSync(sticky, { recursive: true });
  chmodSync(sticky, 0o1777);
  mkdirSync(safe, { mode: 0o700 });
  const victim = join(safe, 'victim');
  writeFileSync(victim, 'secret\n', { mode: 0o600 });
  return { sticky, safe, victim };
}

/** A symbolic link as `uid` would have made it. */
function linkAs(uid: number, target: string, path: string): string {
  symlinkSync(target, path);
  lchownSync(path, uid, uid);
  return path;
}

/** An empty file: a history with no runs yet, which the history command reads. */
function emptyHistory(): string {
  const path = join(work, 'empty-history.sqlite');
  writeFileSync(path, '');
  return path;
}

function refusal(check: () => unknown): Error {
  try {
    check();
  } catch (error) {
    return error as Error;
  }
  throw new Error('accepted');
}

describe('the rule itself (the kernel\'s may_follow_link)', () => {
  const sticky = { mode: 0o41777, uid: 0 };
  it.each([
    ['another user\'s link in a sticky world-writable directory', sticky, NOBODY, 0, true],
    ['the running user\'s own link there', sticky, 1000, 1000, false],
    ['a link of the directory\'s owner there', { mode: 0o41777, uid: 1000 }, 1000, 0, false],
    ['another user\'s link in a world-writable directory that is not sticky', { mode: 0o40777, uid: 0 }, NOBODY, 0, false],
    ['another user\'s link in a sticky directory only its group can write', { mode: 0o41770, uid: 0 }, NOBODY, 0, false],
  ])('%s: refused=%s', (_what, dir, linkUid, uid, refused) => {
    expect(followsForeignLink(dir, { uid: linkUid }, uid)).toBe(refused);
  });
});

describe('report and ledger paths through another user\'s link in a sticky directory are refused before the run', () => {
  it('a link to root\'s file: refused, naming the link, its owner and why; the file is untouched', async () => {
    const { sticky, victim } = scene('to-file');
    const link = linkAs(NOBODY, victim, join(sticky, 'report.md'));
    const error = refusal(() => checkOutputPlace(link, '--summary', REPORTS));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(
      `--summary: ${link} is a symbolic link in ${sticky} (sticky, writable by anyone) owned by uid ${NOBODY}, neither this user (uid 0) nor the directory's owner (uid 0): not followed (the kernel's fs.protected_symlinks rule: another user could aim it at any file)`,
    );
    // the writer checks again (the link may be planted after the check): nothing is written
    await expect(writeOutputFile(link, 'report\n', REPORTS)).rejects.toThrow(/not followed/);
    expect(readFileSync(victim, 'utf8')).toBe('secret\n');
    expect(lstatSync(victim).mode & 0o777).toBe(0o600);
    expect(readlinkSync(link)).toBe(victim);
  });

  it('a dangling link (the ledger would create its target anywhere): refused, nothing created', async () => {
    const { sticky, safe } = scene('dangling');
    const target = join(safe, 'sudoers-x');
    const link = linkAs(NOBODY, target, join(sticky, 'ledger.json'));
    expect(refusal(() => checkOutputPlace(link, '--ledger', LEDGER)).message).toMatch(/^--ledger: .*ledger\.json is a symbolic link in .* owned by uid \d+.*not followed/);
    await expect(writeOutputFile(link, '{}\n', LEDGER)).rejects.toThrow(/not followed/);
    expect(existsSync(target)).toBe(false);
  });

  it('a link to a directory, as a folder of the path: refused, nothing created in the directory it names', async () => {
    const { sticky, safe } = scene('folder');
    const dirLink = linkAs(NOBODY, safe, join(sticky, 'reports'));
    const path = join(dirLink, 'report.json');
    expect(refusal(() => checkOutputPlace(path, '--report-json', REPORTS)).message).toMatch(new RegExp(`^--report-json: ${path}: ${dirLink} is a symbolic link in `));
    await expect(writeOutputFile(path, '{}\n', REPORTS)).rejects.toThrow(/not followed/);
    expect(existsSync(join(safe, 'report.json'))).toBe(false);
    // one more missing folder under it changes nothing (missing folders are created at the end)
    expect(refusal(() => checkOutputPlace(join(dirLink, 'a', 'b.json'), '--junit', REPORTS)).message).toMatch(/not followed/);
  });

  it('a chain: the user\'s own link to another user\'s link in the sticky directory is refused at the second hop', () => {
    const { sticky, victim } = scene('chain');
    const foreign = linkAs(NOBODY, victim, join(sticky, 'theirs'));
    const own = linkAs(0, foreign, join(sticky, 'mine'));
    expect(foreignLinkOn(own, 0)).toMatchObject({ link: foreign, dir: sticky, linkUid: NOBODY });
    expect(refusal(() => checkOutputPlace(own, '--junit', REPORTS)).message).toMatch(new RegExp(`^--junit: ${own}: ${foreign} is a symbolic link`));
  });

  it('`..` after a link goes up from where the link led, as the kernel resolves it', () => {
    const { sticky, safe, victim } = scene('dotdot');
    mkdirSync(join(safe, 'sub'));
    const inner = join(sticky, 'inner');
    mkdirSync(inner);
    linkAs(NOBODY, victim, join(sticky, 'x'));
    // lexically this is sticky/x (nobody's link); resolved, it is safe/x, which does not exist
    const own = linkAs(0, join(safe, 'sub'), join(inner, 'up'));
    expect(foreignLinkOn(join(own, '..', 'x'), 0)).toBeNull();
    // and the other way: lexically safe-looking, resolved through nobody's link
    const viaForeign = linkAs(NOBODY, join(safe, 'sub'), join(sticky, 'sub'));
    expect(foreignLinkOn(`${viaForeign}/../victim`, 0)).toMatchObject({ link: viaForeign });
  });

  it('a relative path is resolved from the working directory', () => {
    const { sticky, victim } = scene('relative');
    linkAs(NOBODY, victim, join(sticky, 'r.json'));
    const cwd = process.cwd();
    process.chdir(sticky);
    try {
      expect(foreignLinkOn('r.json', 0)).toMatchObject({ link: join(sticky, 'r.json') });
      expect(foreignLinkOn('./none/../r.json', 0)).toBeNull(); // `none` does not exist: the kernel stops there too
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('what stays legitimate', () => {
  it('the user\'s own link in the sticky directory: followed, the file it names replaced, the link stays', async () => {
    const { sticky, safe } = scene('own');
    const file = join(safe, 'report.md');
    writeFileSync(file, 'old\n', { mode: 0o640 });
    const link = linkAs(0, file, join(sticky, 'report.md'));
    expect(checkOutputPlace(link, '--summary', REPORTS).path).toBe(file);
    await writeOutputFile(link, 'new\n', REPORTS);
    expect(readFileSync(file, 'utf8')).toBe('new\n');
    expect(readlinkSync(link)).toBe(file);
    // a dangling one of the user's own: its target is created
    const later = linkAs(0, join(safe, 'later.json'), join(sticky, 'later.json'));
    await writeOutputFile(later, '{}\n', LEDGER);
    expect(readFileSync(join(safe, 'later.json'), 'utf8')).toBe('{}\n');
  });

  it('a link of the sticky directory\'s owner, used by another user, is followed (the kernel allows it too)', () => {
    const { sticky, victim } = scene('dir-owner');
    const link = linkAs(0, victim, join(sticky, 'r.json'));
    expect(foreignLinkOn(link, NOBODY)).toBeNull();
  });

  it('another user\'s link in a directory that is not sticky, or not writable by anyone: followed', async () => {
    const { safe, victim, sticky } = scene('not-sticky');
    const open = join(safe, '..', 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const link = linkAs(NOBODY, victim, join(open, 'r.json'));
    await writeOutputFile(link, 'report\n', REPORTS);
    expect(readFileSync(victim, 'utf8')).toBe('report\n');
    chmodSync(sticky, 0o1770);
    expect(foreignLinkOn(linkAs(NOBODY, victim, join(sticky, 'g.json')), 0)).toBeNull();
  });

  it('/dev/null, /dev/stdout, and another user\'s FIFO (not a link) in the sticky directory are still written through', async () => {
    const { sticky } = scene('devices');
    expect(checkOutputPlace('/dev/null', '--junit', REPORTS).kind).toBe('device');
    expect(foreignLinkOn('/dev/stdout', 0)).toBeNull();
    const fifo = join(sticky, 'fifo');
    execFileSync('mkfifo', [fifo]);
    lchownSync(fifo, NOBODY, NOBODY);
    expect(checkOutputPlace(fifo, '--junit', REPORTS).kind).toBe('fifo');
  });
});

describe('the CLI and the action: exit 2 before anything runs', () => {
  it.each([
    ['drill --summary', (link: string) => ['drill', '--summary', link]],
    ['drill --report-json', (link: string) => ['drill', '--report-json', link]],
    ['drill --junit', (link: string) => ['drill', '--junit', link]],
    ['validate --ledger', (link: string) => ['validate', '--dir', work, '--ledger', link]],
    ['drill --history', (link: string) => ['drill', '--history', join(link, 'h.sqlite')]],
    ['drill --history --chart', (link: string) => ['drill', '--history', join(work, 'chart-h.sqlite'), '--chart', link]],
    ['history --chart', (link: string) => ['history', emptyHistory(), '--chart', link]],
  ])('%s through nobody\'s link: exit 2 naming it; the file it names is untouched', async (what, args) => {
    const { sticky, safe, victim } = scene(`cli-${what.replace(/\W+/g, '-')}`);
    // --history takes the path as a folder (a history that is itself a link is refused already)
    const link = linkAs(NOBODY, what === 'drill --history' ? safe : victim, join(sticky, 'out'));
    const run = await runCli(args(link), { timeoutMs: 30_000 });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^atocore-drill: --\\w[\\w-]*: .*${link} is a symbolic link in ${sticky} \\(sticky, writable by anyone\\) owned by uid ${NOBODY}`, 'm'));
    expect(run.stdout).not.toMatch(/Start AtoCore|open the backup root/);
    expect(readFileSync(victim, 'utf8')).toBe('secret\n');
    expect(existsSync(join(safe, 'h.sqlite'))).toBe(false);
  });

  it('validate with the user\'s own link in the sticky directory: the summary is written through it', async () => {
    const { sticky, safe } = scene('cli-own');
    const tree = join(work, 'tree');
    buildSnapshotTree(tree, goodTreePlan());
    const file = join(safe, 'summary.md');
    const link = linkAs(0, file, join(sticky, 'summary.md'));
    const run = await runCli(['validate', '--dir', tree, '--now', FIXTURE_NOW, '--summary', link], { timeoutMs: 90_000 });
    // the verdict is not what this is about (a summary is written whatever it is): the path was taken, and the summary went through the link
    expect(run.code, run.stdout + run.stderr).not.toBe(2);
    expect(run.stderr).not.toMatch(/not written|symbolic link/);
    expect(existsSync(file), run.stdout + run.stderr).toBe(true);
    expect(readFileSync(file, 'utf8')).toMatch(/^#+ .*(PASS|FAIL|ERROR)/m);
    expect(readlinkSync(link)).toBe(file);
  });

  describe('the action: report-dir through nobody\'s link', () => {
    const saved = { ...process.env };
    beforeEach(() => {
      for (const name of Object.keys(process.env)) if (name.startsWith('INPUT_')) delete process.env[name];
    });
    afterEach(() => {
      process.env = { ...saved };
    });

    it('is refused as input report-dir, naming the link', () => {
      const { sticky, safe } = scene('action');
      const link = linkAs(NOBODY, safe, join(sticky, 'atocore-drill-report'));
      process.env.GITHUB_WORKSPACE = sticky;
      const error = refusal(() => readActionInputs());
      expect(error).toBeInstanceOf(FieldError);
      expect(error.message).toMatch(new RegExp(`^input report-dir: .*${link} is a symbolic link in ${sticky} .*not followed`));
      expect(existsSync(join(safe, 'report.json'))).toBe(false);
    });
  });
});
