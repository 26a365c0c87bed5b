/**
 * A minimal ZIP reader: Node has no zip built in and the importers must not depend on an `unzip`
 * binary. It reads the central directory (the local headers' sizes are zero when an archive was
 * written with data descriptors, as LOBSTER's are) and inflates stored (0) and deflate (8) entries,
 * checking each entry's size and CRC-32. No ZIP64, encryption or multi-disk archives: each is
 * refused with an error naming the file.
 */
import { readFileSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';
import { InputError } from '../core/errors.ts';

export interface ZipEntry {
  /** Path inside the archive, `/`-separated. */
  name: string;
  data: Buffer;
}

const EOCD_SIG = 0x06054b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_MIN = 22;
const MAX_COMMENT = 0xffff;

interface CentralRecord {
  name: string;
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

function findEocd(file: string, buf: Buffer): number {
  const stop = Math.max(0, buf.length - EOCD_MIN - MAX_COMMENT);
  for (let i = buf.length - EOCD_MIN; i >= stop; i--) if (buf.readUInt32LE(i) === EOCD_SIG) return i;
  throw new InputError({ file, reason: 'not a ZIP archive (no end-of-central-directory record)' });
}

function centralDirectory(file: string, buf: Buffer): CentralRecord[] {
  const eocd = findEocd(file, buf);
  const disk = buf.readUInt16LE(eocd + 4);
  const count = buf.readUInt16LE(eocd + 10);
  const cdSize = buf.readUInt32LE(eocd + 12);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  if (disk !== 0) throw new InputError({ file, reason: 'multi-disk ZIP archives are not supported' });
  if (count === 0xffff || cdOffset === 0xffffffff) throw new InputError({ file, reason: 'ZIP64 archives are not supported' });
  if (cdOffset + cdSize > eocd) throw new InputError({ file, field: 'central directory offset', value: cdOffset, reason: 'points past the end of the archive (truncated file?)' });
  const out: CentralRecord[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== CENTRAL_SIG) {
      throw new InputError({ file, field: 'central directory', value: i, reason: 'entry header is missing or corrupt' });
    }
    const nameLen = buf.readUInt16LE(p + 28);
    const rec: CentralRecord = {
      flags: buf.readUInt16LE(p + 8),
      method: buf.readUInt16LE(p + 10),
      crc: buf.readUInt32LE(p + 16),
      compressedSize: buf.readUInt32LE(p + 20),
      size: buf.readUInt32LE(p + 24),
      localOffset: buf.readUInt32LE(p + 42),
      name: buf.toString('utf8', p + 46, p + 46 + nameLen),
    };
    out.push(rec);
    p += 46 + nameLen + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
  }
  return out;
}

function inflateEntry(file: string, buf: Buffer, rec: CentralRecord): Buffer {
  const where = { file, field: rec.name };
  if (rec.flags & 1) throw new InputError({ ...where, reason: 'encrypted entries are not supported' });
  if (rec.size === 0xffffffff || rec.compressedSize === 0xffffffff) throw new InputError({ ...where, reason: 'ZIP64 entries are not supported' });
  const lh = rec.localOffset;
  if (lh + 30 > buf.length || buf.readUInt32LE(lh) !== LOCAL_SIG) throw new InputError({ ...where, value: lh, reason: 'local header missing at the offset the central directory gives' });
  const start = lh + 30 + buf.readUInt16LE(lh + 26) + buf.readUInt16LE(lh + 28);
  const raw = buf.subarray(start, start + rec.compressedSize);
  if (raw.length !== rec.compressedSize) throw new InputError({ ...where, reason: 'entry data is truncated' });
  let data: Buffer;
  if (rec.method === 0) data = Buffer.from(raw);
  else if (rec.method === 8) {
    try {
      data = inflateRawSync(raw);
    } catch (e) {
      throw new InputError({ ...where, reason: `corrupt deflate data (${(e as Error).message})` });
    }
  } else throw new InputError({ ...where, value: rec.method, reason: 'unsupported compression method (only stored and deflate)' });
  if (data.length !== rec.size) throw new InputError({ ...where, value: data.length, reason: `inflated to the wrong size (expected ${rec.size} bytes)` });
  if (crc32(data) !== rec.crc) throw new InputError({ ...where, reason: 'CRC-32 mismatch (corrupt entry)' });
  return data;
}

/** Names of the file entries of an archive (directories excluded), in central-directory order. */
export function listZipEntries(path: string): string[] {
  return centralDirectory(path, readArchive(path))
    .map((r) => r.name)
    .filter((n) => !n.endsWith('/'));
}

/**
 * Reads the file entries of a ZIP archive, in central-directory order. `want` selects entries by
 * name so that large unwanted members are never inflated. Errors are InputErrors naming the archive
 * (and the entry, as `field`).
 */
export function readZipEntries(path: string, want: (name: string) => boolean = () => true): ZipEntry[] {
  const buf = readArchive(path);
  return centralDirectory(path, buf)
    .filter((r) => !r.name.endsWith('/') && want(r.name))
    .map((r) => ({ name: r.name, data: inflateEntry(path, buf, r) }));
}

function readArchive(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new InputError({ file: path, reason: `cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
  }
}
