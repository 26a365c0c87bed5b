/**
 * Headerless line-oriented text (Binance captures, LOBSTER CSVs inside a ZIP) as numbered lines.
 * Gzip is detected by its magic bytes rather than the file name, so a renamed capture still reads.
 * The files are a few MB unpacked, so a whole file is read at once.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../core/errors.ts';

export interface TextLine {
  /** 1-based line number in the file. */
  line: number;
  text: string;
}

/** Non-empty lines of a text, numbered from 1, without their `\n` / `\r\n`. */
export function splitLines(text: string): TextLine[] {
  const parts = text.split('\n');
  const out: TextLine[] = [];
  for (let i = 0; i < parts.length; i++) {
    const t = parts[i].endsWith('\r') ? parts[i].slice(0, -1) : parts[i];
    if (t.length > 0) out.push({ line: i + 1, text: t });
  }
  return out;
}

/** Reads a plain or gzipped text file as numbered lines; an unreadable file is an InputError. */
export function readTextLines(file: string): TextLine[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new InputError({ file, reason: `cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new InputError({ file, reason: `corrupt gzip data (${(e as Error).message})` });
    }
  }
  return splitLines(bytes.toString('utf8'));
}
