import type { Stats } from 'node:fs';

/** What an entry is, as lstat tells it: links are reported, never followed. */
export type FileKind = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char-device' | 'block-device' | 'other';

export function fileKindOf(stats: Stats): FileKind {
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'dir';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isSocket()) return 'socket';
  if (stats.isCharacterDevice()) return 'char-device';
  if (stats.isBlockDevice()) return 'block-device';
  return 'other';
}

const WORDS: Readonly<Record<FileKind, string>> = {
  file: 'a regular file',
  dir: 'a directory',
  symlink: 'a symlink',
  fifo: 'a FIFO',
  socket: 'a socket',
  'char-device': 'a character device',
  'block-device': 'a block device',
  other: 'not a regular file',
};

/** "a FIFO", "a symlink"…: for messages. */
export function describeFileKind(stats: Stats): string {
  return WORDS[fileKindOf(stats)];
}
