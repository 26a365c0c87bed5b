import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../core/errors.ts';
import { readTextLines, splitLines } from './text-lines.ts';

describe('text lines', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'text-lines-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const text = 'a b\r\n\nc\n';

  it('numbers lines from 1, keeping the numbers of blank lines it drops, and strips CR', () => {
    expect(splitLines(text)).toEqual([{ line: 1, text: 'a b' }, { line: 3, text: 'c' }]);
    expect(splitLines('x')).toEqual([{ line: 1, text: 'x' }]);
  });

  it('reads plain and gzipped files alike (gzip detected by content, not name)', () => {
    const plain = path.join(tmp, 'plain.txt');
    const gz = path.join(tmp, 'renamed.txt');
    writeFileSync(plain, text);
    writeFileSync(gz, gzipSync(text));
    expect(readTextLines(gz)).toEqual(readTextLines(plain));
  });

  it('names the file when it is missing or its gzip is corrupt', () => {
    const bad = path.join(tmp, 'bad.gz');
    writeFileSync(bad, gzipSync(text).subarray(0, 12));
    expect(() => readTextLines(bad)).toThrow(InputError);
    expect(() => readTextLines(bad)).toThrow(`${bad}: corrupt gzip data`);
    expect(() => readTextLines(path.join(tmp, 'none.gz'))).toThrow(/none\.gz: cannot read file \(ENOENT\)/);
  });
});
