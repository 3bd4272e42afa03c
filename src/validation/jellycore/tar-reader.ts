import { createGunzip, type Gunzip } from 'node:zlib';

/**
 * Reads a gzip-compressed tar archive from start to end without extracting anything: the
 * gzip stream is inflated as it arrives (node:zlib) and the tar headers are walked, each
 * entry's data skipped. Memory stays constant whatever the archive holds; what it finds
 * wrong (not gzip, cut short, a damaged header) is a value, never a throw.
 */

const BLOCK = 512;
/** pax extended headers and GNU long names are read into memory up to this; longer is a damaged archive */
const MAX_META_BYTES = 1024 * 1024;
/** names kept for the evidence */
const MAX_NAMES = 10;

export interface TarVerdict {
  /** the archive reads to its end-of-archive marker with every header sound */
  readonly ok: boolean;
  /** what is wrong, in words (null: nothing) */
  readonly problem: string | null;
  readonly compressedBytes: number;
  readonly uncompressedBytes: number;
  readonly entries: number;
  readonly files: number;
  readonly directories: number;
  /** the bytes of the regular files' contents */
  readonly fileBytes: number;
  readonly firstNames: readonly string[];
  /** entries whose name is absolute or climbs out with `..`: a restore extracting it would write elsewhere */
  readonly escapingNames: readonly string[];
  /** regular files under the directory the reader was asked about (`filesUnder`; null: not asked) */
  readonly filesUnder: number | null;
}

export interface TarReadOptions {
  /** a directory the archive must hold files in (`auth`): its regular files are counted, `./` before it or not */
  readonly filesUnder?: string;
}

function octalField(header: Buffer, start: number, length: number): number | null {
  const field = header.subarray(start, start + length);
  // GNU base-256 for large values: the high bit of the first byte set
  if (field[0]! & 0x80) {
    if (field[0] === 0xff) return null;
    let value = field[0]! & 0x7f;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    return Number.isSafeInteger(value) ? value : null;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return null;
  return Number.parseInt(text, 8);
}

function textField(header: Buffer, start: number, length: number): string {
  const field = header.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
}

function checksumOk(header: Buffer): boolean {
  const stored = octalField(header, 148, 8);
  if (stored === null) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : header[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  // old tars summed signed bytes; both are accepted, as GNU tar does
  return stored === unsigned || stored === signed;
}

/** `len key=value\n` records of a pax extended header. */
function paxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const length = Number(data.subarray(at, space).toString('latin1'));
    if (!Number.isInteger(length) || length <= 0 || at + length > data.length) break;
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals > 0) records.set(record.slice(0, equals), record.slice(equals + 1));
    at += length;
  }
  return records;
}

function escapes(name: string): boolean {
  return name.startsWith('/') || name.split('/').includes('..');
}

/** Whether `name` is an entry inside `dir` as tar extracts it (`dir/x`, `./dir/x`, never `dir` itself). */
function isInside(name: string, dir: string): boolean {
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  return parts.length > 1 && parts[0] === dir && !escapes(name);
}

/** The tar format, block by block: headers checked, data skipped. */
class TarWalker {
  #state: 'header' | 'data' | 'meta' | 'end' = 'header';
  #header = Buffer.alloc(BLOCK);
  #headerFill = 0;
  /** bytes of the current entry's data (and padding) still to skip */
  #skip = 0;
  #meta: Buffer[] = [];
  #metaLeft = 0;
  #metaPadding = 0;
  #metaKind: 'pax' | 'longname' | 'global' = 'pax';
  /** overrides for the next entry from a pax header or a GNU long name */
  #nextName: string | null = null;
  #nextSize: number | null = null;
  #current = '';
  problem: string | null = null;
  uncompressedBytes = 0;
  entries = 0;
  files = 0;
  directories = 0;
  fileBytes = 0;
  readonly firstNames: string[] = [];
  readonly escapingNames: string[] = [];
  readonly #filesUnder: string | null;
  filesUnder = 0;

  constructor(filesUnder: string | null) {
    this.#filesUnder = filesUnder;
  }

  get ended(): boolean {
    return this.#state === 'end';
  }

  push(chunk: Buffer): void {
    this.uncompressedBytes += chunk.length;
    let at = 0;
    while (at < chunk.length && this.problem === null) {
      if (this.#state === 'end') return;
      if (this.#state === 'data') {
        const take = Math.min(this.#skip, chunk.length - at);
        this.#skip -= take;
        at += take;
        if (this.#skip === 0) this.#state = 'header';
        continue;
      }
      if (this.#state === 'meta') {
        const take = Math.min(this.#metaLeft + this.#metaPadding, chunk.length - at);
        const data = Math.min(take, this.#metaLeft);
        if (data > 0) this.#meta.push(chunk.subarray(at, at + data));
        this.#metaLeft -= data;
        this.#metaPadding -= take - data;
        at += take;
        if (this.#metaLeft === 0 && this.#metaPadding === 0) this.#metaDone();
        continue;
      }
      const take = Math.min(BLOCK - this.#headerFill, chunk.length - at);
      chunk.copy(this.#header, this.#headerFill, at, at + take);
      this.#headerFill += take;
      at += take;
      if (this.#headerFill === BLOCK) {
        this.#headerFill = 0;
        this.#onHeader(this.#header);
      }
    }
  }

  #onHeader(header: Buffer): void {
    if (header.every((byte) => byte === 0)) {
      // the end-of-archive marker (two zero blocks; GNU tar accepts one)
      this.#state = 'end';
      return;
    }
    if (!checksumOk(header)) {
      this.problem = `a damaged tar header after ${this.entries} entr${this.entries === 1 ? 'y' : 'ies'} (its checksum does not match)${this.#current ? `, after ${JSON.stringify(this.#current)}` : ''}`;
      return;
    }
    const size = this.#nextSize ?? octalField(header, 124, 12);
    if (size === null) {
      this.problem = `the tar header of ${JSON.stringify(textField(header, 0, 100))} has no valid size`;
      return;
    }
    const type = String.fromCharCode(header[156]!);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      if (size > MAX_META_BYTES) {
        this.problem = `an extended tar header of ${size} bytes (more than ${MAX_META_BYTES}): not an archive tar writes`;
        return;
      }
      this.#metaKind = type === 'x' ? 'pax' : type === 'g' ? 'global' : type === 'L' ? 'longname' : 'global';
      this.#meta = [];
      this.#metaLeft = size;
      this.#metaPadding = padded - size;
      this.#state = size === 0 ? 'header' : 'meta';
      if (size === 0) this.#metaDone();
      return;
    }
    const prefix = header.subarray(257, 262).toString('latin1') === 'ustar' ? textField(header, 345, 155) : '';
    const name = this.#nextName ?? (prefix ? `${prefix}/${textField(header, 0, 100)}` : textField(header, 0, 100));
    this.#nextName = null;
    this.#nextSize = null;
    this.#current = name;
    this.entries++;
    if (this.firstNames.length < MAX_NAMES) this.firstNames.push(name);
    if (escapes(name) && this.escapingNames.length < MAX_NAMES) this.escapingNames.push(name);
    if (type === '5') this.directories++;
    // hard and symbolic links, devices and FIFOs carry no data whatever their size field says
    const hasData = type === '0' || type === '\0' || type === '7' || type === 'S' || !'123456'.includes(type);
    if (type === '0' || type === '\0' || type === '7') {
      this.files++;
      this.fileBytes += size;
      if (this.#filesUnder !== null && isInside(name, this.#filesUnder)) this.filesUnder++;
    }
    this.#skip = hasData ? padded : 0;
    this.#state = this.#skip > 0 ? 'data' : 'header';
  }

  #metaDone(): void {
    const data = Buffer.concat(this.#meta);
    this.#meta = [];
    this.#state = 'header';
    if (this.#metaKind === 'longname') this.#nextName = data.toString('utf8').replace(/\0+$/, '');
    if (this.#metaKind !== 'pax') return;
    const records = paxRecords(data);
    const path = records.get('path');
    if (path !== undefined) this.#nextName = path;
    const size = records.get('size');
    if (size !== undefined) {
      if (!/^\d+$/.test(size) || !Number.isSafeInteger(Number(size))) {
        this.problem = `a pax header gives the size ${JSON.stringify(size.slice(0, 40))}`;
        return;
      }
      this.#nextSize = Number(size);
    }
  }

  /** What is wrong when the data ran out here (null: it ended where an archive may). */
  finish(): string | null {
    if (this.problem !== null) return this.problem;
    if (this.#state === 'end') return null;
    const at = `after ${this.entries} entr${this.entries === 1 ? 'y' : 'ies'}`;
    if (this.#state === 'data' || this.#state === 'meta') return `cut short inside ${JSON.stringify(this.#current)} (${at}): the archive is truncated`;
    if (this.#headerFill > 0) return `cut short inside a tar header (${at}): the archive is truncated`;
    if (this.entries === 0) return 'it holds no tar data at all';
    return `no end-of-archive marker (${at}): the archive was cut short between two entries`;
  }
}

/** Feeds a .tar.gz through gunzip and the tar walker, chunk by chunk as it is read. */
export class TarGzReader {
  readonly #gunzip: Gunzip;
  readonly #walker: TarWalker;
  readonly #asked: boolean;
  #compressed = 0;
  #gzipProblem: string | null = null;
  #closed = false;
  /** writes waiting for the inflater: a stream that fails mid-chunk never calls their callbacks */
  readonly #waiting = new Set<() => void>();

  constructor(options: TarReadOptions = {}) {
    this.#walker = new TarWalker(options.filesUnder ?? null);
    this.#asked = options.filesUnder !== undefined;
    this.#gunzip = createGunzip();
    this.#gunzip.on('data', (chunk: Buffer) => this.#walker.push(chunk));
    this.#gunzip.on('error', (error: NodeJS.ErrnoException) => {
      this.#gzipProblem ??= gzipProblem(error, this.#compressed);
      this.#release();
    });
    this.#gunzip.on('close', () => {
      this.#closed = true;
      this.#release();
    });
  }

  #release(): void {
    for (const resolve of [...this.#waiting]) resolve();
  }

  /** Something is already wrong, or the archive has ended: the rest need not be read. */
  get done(): boolean {
    return this.#gzipProblem !== null || this.#walker.problem !== null || this.#closed;
  }

  /** One chunk of the compressed file; resolves false when the rest need not be read. */
  write(chunk: Buffer): Promise<boolean> {
    this.#compressed += chunk.length;
    if (this.done) return Promise.resolve(false);
    return new Promise((resolve) => {
      const settle = (): void => {
        if (!this.#waiting.delete(settle)) return;
        if (this.#walker.problem !== null && !this.#closed) this.#gunzip.destroy();
        resolve(!this.done);
      };
      this.#waiting.add(settle);
      this.#gunzip.write(chunk, settle);
    });
  }

  /** The whole file was given (or the reading stopped early): the verdict. */
  async end(): Promise<TarVerdict> {
    if (!this.#closed) {
      await new Promise<void>((resolve) => {
        this.#gunzip.once('close', () => resolve());
        // a problem found already: nothing more to inflate
        if (this.done) this.#gunzip.destroy();
        else this.#gunzip.end();
      });
    }
    const problem = this.#gzipProblem ?? this.#walker.finish();
    const walker = this.#walker;
    return {
      ok: problem === null,
      problem,
      compressedBytes: this.#compressed,
      uncompressedBytes: walker.uncompressedBytes,
      entries: walker.entries,
      files: walker.files,
      directories: walker.directories,
      fileBytes: walker.fileBytes,
      firstNames: walker.firstNames,
      escapingNames: walker.escapingNames,
      filesUnder: this.#asked ? walker.filesUnder : null,
    };
  }

  /** Nothing more will be given: release the inflater (an interrupted read). */
  abort(): void {
    this.#gunzip.destroy();
  }
}

function gzipProblem(error: NodeJS.ErrnoException, compressed: number): string {
  if (error.code === 'Z_BUF_ERROR' || /unexpected end/i.test(error.message)) return `the gzip stream ends early (after ${compressed} compressed bytes): the file is truncated`;
  if (/incorrect header check|not a gzip|unknown compression/i.test(error.message)) return 'it is not gzip data (no gzip header)';
  return `gzip: ${error.message} (a damaged compressed stream)`;
}
