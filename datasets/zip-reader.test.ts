import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../core/errors.ts';
import { listZipEntries, readZipEntries } from './zip-reader.ts';
import { realData } from '../testing/real-data.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REAL = realData('readZipEntries on the LOBSTER samples', 'equity_lobster');
const lobsterDir = REAL.path('equity_lobster');
const tmp = mkdtempSync(path.join(tmpdir(), 'zip-reader-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Builds a ZIP in memory like common writers do (method 0 or 8; data descriptors optional). */
function makeZip(entries: { name: string; data: Buffer; method: 0 | 8; descriptor?: boolean }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const body = e.method === 8 ? deflateRawSync(e.data) : e.data;
    const name = Buffer.from(e.name, 'utf8');
    const crc = crc32(e.data);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(e.descriptor ? 8 : 0, 6);
    lh.writeUInt16LE(e.method, 8);
    // With a data descriptor the local header carries zero sizes: readers must use the central directory.
    lh.writeUInt32LE(e.descriptor ? 0 : crc, 14);
    lh.writeUInt32LE(e.descriptor ? 0 : body.length, 18);
    lh.writeUInt32LE(e.descriptor ? 0 : e.data.length, 22);
    lh.writeUInt16LE(name.length, 26);
    const dd = Buffer.alloc(e.descriptor ? 16 : 0);
    if (e.descriptor) {
      dd.writeUInt32LE(0x08074b50, 0);
      dd.writeUInt32LE(crc, 4);
      dd.writeUInt32LE(body.length, 8);
      dd.writeUInt32LE(e.data.length, 12);
    }
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(e.descriptor ? 8 : 0, 8);
    ch.writeUInt16LE(e.method, 10);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(body.length, 20);
    ch.writeUInt32LE(e.data.length, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(offset, 42);
    locals.push(lh, name, body, dd);
    centrals.push(ch, name);
    offset += lh.length + name.length + body.length + dd.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

function caught(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

describe('readZipEntries', () => {
  const text = Buffer.from('34200.015105074,4,15818974,4,5794000,1\n'.repeat(500));
  const file = path.join(tmp, 'ok.zip');
  writeFileSync(
    file,
    makeZip([
      { name: 'dir/', data: Buffer.alloc(0), method: 0 },
      { name: 'a_message_1.csv', data: text, method: 8, descriptor: true },
      { name: 'readme.txt', data: Buffer.from('hello'), method: 0 },
      { name: 'empty.txt', data: Buffer.alloc(0), method: 8 },
    ]),
  );

  it('reads stored and deflate entries, skipping directories', () => {
    const entries = readZipEntries(file);
    expect(entries.map((e) => e.name)).toEqual(['a_message_1.csv', 'readme.txt', 'empty.txt']);
    expect(entries[0].data.equals(text)).toBe(true);
    expect(entries[1].data.toString()).toBe('hello');
    expect(entries[2].data.length).toBe(0);
    expect(listZipEntries(file)).toEqual(['a_message_1.csv', 'readme.txt', 'empty.txt']);
  });

  it('inflates only the entries asked for', () => {
    expect(readZipEntries(file, (n) => n.endsWith('.txt')).map((e) => e.name)).toEqual(['readme.txt', 'empty.txt']);
  });

  it('names the file in errors: missing, not a zip, truncated, corrupt data', () => {
    expect(caught(() => readZipEntries(path.join(tmp, 'nope.zip'))).message).toMatch(/nope\.zip: cannot read file \(ENOENT\)/);
    const notZip = path.join(tmp, 'not.zip');
    writeFileSync(notZip, 'just text, no archive here');
    expect(caught(() => readZipEntries(notZip)).message).toContain(`${notZip}: not a ZIP archive`);
    const bytes = readFileSync(file);
    const truncated = path.join(tmp, 'truncated.zip');
    writeFileSync(truncated, bytes.subarray(0, 200));
    expect(caught(() => readZipEntries(truncated)).info.file).toBe(truncated);
    const corrupt = path.join(tmp, 'corrupt.zip');
    const flipped = Buffer.from(bytes);
    flipped[30 + 'dir/'.length + 30 + 'a_message_1.csv'.length + 5] ^= 0xff;
    writeFileSync(corrupt, flipped);
    const err = caught(() => readZipEntries(corrupt));
    expect(err.info.file).toBe(corrupt);
    expect(err.info.field).toBe('a_message_1.csv');
  });
});

describe.skipIf(!REAL.present)('readZipEntries on the LOBSTER samples', () => {
  it('lists and inflates the GOOG archive (data-descriptor entries)', () => {
    const zip = path.join(lobsterDir, 'LOBSTER_SampleFile_GOOG_2012-06-21_10.zip');
    expect(listZipEntries(zip)).toEqual([
      'GOOG_2012-06-21_34200000_57600000_orderbook_10.csv',
      'GOOG_2012-06-21_34200000_57600000_message_10.csv',
      'LOBSTER_SampleFiles_ReadMe.txt',
    ]);
    const [msg] = readZipEntries(zip, (n) => n.includes('_message_'));
    expect(msg.data.length).toBe(6_094_817);
    expect(msg.data.toString('utf8', 0, 39)).toBe('34200.015105074,4,15818974,4,5794000,1\n');
  });
});
