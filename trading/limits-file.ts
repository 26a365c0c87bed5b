/** The limits file read from disk (the I/O beside limits.ts, whose evaluation is pure). */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError } from '../core/errors.ts';
import { parseLimits, type Limits } from './limits.ts';

/** Reads and parses a limits file (JSON). */
export function readLimits(file: string): Limits {
  return readLimitsSource(file).limits;
}

/**
 * Reads a limits file once: the parsed limits, the file's absolute path and the SHA-256 of the
 * very bytes parsed (what the desk publishes in `<ns>:limits`: reading the file twice could hash
 * another version than the one in force).
 */
export function readLimitsSource(file: string): { limits: Limits; file: string; sha256: string } {
  let bytes: Buffer;
  let raw: unknown;
  try {
    bytes = readFileSync(file);
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new InputError({ file, reason: `cannot read as JSON (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
  }
  return { limits: parseLimits(raw, file), file: resolve(file), sha256: createHash('sha256').update(bytes).digest('hex') };
}
