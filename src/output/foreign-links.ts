import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';

/** S_ISVTX | S_IWOTH: a directory anyone may add names to, where only a name's owner may remove it (/tmp, /var/tmp, /dev/shm). */
const STICKY_AND_OPEN = 0o1002;

/** The kernel's limit on links followed while resolving one path (ELOOP past it). */
const MAX_LINK_HOPS = 40;

/** A directory anyone may add names to (sticky and world-writable, as /tmp): another user's links may sit there. */
export function isSharedDirectory(dir: Pick<Stats, 'mode'>): boolean {
  return (dir.mode & STICKY_AND_OPEN) === STICKY_AND_OPEN;
}

/** A link the kernel's rule would not follow: where it is and whose it is. */
export interface ForeignLink {
  readonly link: string;
  readonly dir: string;
  readonly linkUid: number;
  readonly dirUid: number;
  readonly uid: number;
}

/**
 * The kernel's `fs.protected_symlinks` rule (may_follow_link): a link that sits in a sticky,
 * world-writable directory is followed only when it belongs to the user who follows it or to
 * that directory's owner. Anyone can plant a link in /tmp; one that another user planted
 * would aim a root run's writes at any file.
 */
export function followsForeignLink(dir: Pick<Stats, 'mode' | 'uid'>, link: Pick<Stats, 'uid'>, uid: number): boolean {
  if (!isSharedDirectory(dir)) return false;
  return link.uid !== uid && link.uid !== dir.uid;
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/**
 * The first link that resolving `path` would follow against that rule, or null. The path is
 * resolved one name at a time, as the kernel does: every link on the way is checked in the
 * directory it sits in (the path's folders, its last name, and whatever links point at,
 * a dangling link included), and `..` goes up from where a link led. The machine's own
 * setting is not relied on (it may be off, and the writer resolves links itself, which the
 * kernel's rule never sees). Where the path stops resolving (a missing name, a loop) the answer is null:
 * nothing more would be followed, and the output rules say what is wrong with the path.
 */
export function foreignLinkOn(path: string, uid: number): ForeignLink | null {
  let pending = (path.startsWith('/') ? path : `${process.cwd()}/${path}`).split('/');
  let dir = '/';
  let hops = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '' || name === '.') continue;
    if (name === '..') {
      dir = dirname(dir);
      continue;
    }
    const next = dir === '/' ? `/${name}` : `${dir}/${name}`;
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
    let target: string;
    try {
      target = readlinkSync(next);
    } catch {
      return null;
    }
    if (target.startsWith('/')) dir = '/';
    pending = [...target.split('/'), ...pending];
  }
  return null;
}

/** Why such a link is refused, for a message that names the path given. */
export function describeForeignLink(found: ForeignLink): string {
  return (
    `${found.link} is a symbolic link in ${found.dir} (sticky, writable by anyone) owned by uid ${found.linkUid}, ` +
    `neither this user (uid ${found.uid}) nor the directory's owner (uid ${found.dirUid}): not followed ` +
    "(the kernel's fs.protected_symlinks rule: another user could aim it at any file)"
  );
}
