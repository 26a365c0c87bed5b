/**
 * One error hierarchy: every error Lockstep raises on purpose is a `LockstepError`, and the user's
 * mistakes are `UserError`s (the CLI's one line and exit 2, decided by `instanceof`).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FactorDefinitionError, InputError, InvalidEventError, LockstepError, SnapshotError, UsageError, UserError, isUserError } from './errors.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SKIP = new Set(['node_modules', 'out', 'tmp', 'dist', '.git']);

function sources(dir: string, acc: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name) || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, acc);
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) acc.push(p);
  }
  return acc;
}

describe('error hierarchy', () => {
  it('user errors are LockstepErrors with exit code 2 and their class name', () => {
    const cases: UserError[] = [
      new UsageError('bad flag'),
      new InputError({ file: 'a.parquet', row: 3, field: 'price', value: -1, reason: 'negative' }),
      new FactorDefinitionError('ema_12', 'period must be >= 1'),
      new InvalidEventError('price', NaN, 'not finite'),
      new SnapshotError('truncated'),
    ];
    for (const e of cases) {
      expect(e).toBeInstanceOf(Error);
      expect(e).toBeInstanceOf(LockstepError);
      expect(isUserError(e)).toBe(true);
      expect(e.exitCode).toBe(2);
      expect(e.name).toBe(e.constructor.name);
    }
    expect(cases[1].message).toBe('a.parquet, row 3, field price: negative (value -1)');
  });

  it('a LockstepError that is not the user\'s fault is not a user error', () => {
    class Broken extends LockstepError {}
    expect(isUserError(new Broken('x'))).toBe(false);
    expect(isUserError(new Error('x'))).toBe(false);
    expect(new Broken('x').name).toBe('Broken');
  });

  it('no source file declares an error outside the hierarchy, and the CLI never matches class names', () => {
    const offenders: string[] = [];
    for (const f of sources(ROOT)) {
      if (relative(ROOT, f) === join('core', 'errors.ts')) continue; // the base itself
      const src = readFileSync(f, 'utf8');
      if (/class\s+\w+\s+extends\s+(Error|TypeError|RangeError)\b/.test(src)) offenders.push(`${relative(ROOT, f)}: extends Error directly`);
      if (/\.name\s*=\s*['"]\w*Error['"]/.test(src)) offenders.push(`${relative(ROOT, f)}: sets an error's name by hand`);
      if (/\.name\s*===\s*['"]\w*Error['"]|USER_ERRORS/.test(src)) offenders.push(`${relative(ROOT, f)}: decides by an error's class name`);
    }
    expect(offenders).toEqual([]);
  });
});
