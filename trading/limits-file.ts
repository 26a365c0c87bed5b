/** The limits file read from disk (the I/O beside limits.ts, whose evaluation is pure). */
import { readFileSync } from 'node:fs';
import { InputError } from '../core/errors.ts';
import { parseLimits, type Limits } from './limits.ts';

/** Reads and parses a limits file (JSON). */
export function readLimits(file: string): Limits {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError({ file, reason: `cannot read as JSON (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
  }
  return parseLimits(raw, file);
}
