/**
 * `lockstep factors check FILE`: the factor contract suite's generic checks (core/contract/checks.ts:
 * null before the first input, determinism, snapshot/restore through both codecs at several cuts)
 * over fixed streams, plus a dynamic purity check: each factor runs again with the wall clock moved
 * ten years on and Math.random drawing another sequence, and must give the same bits. (The static
 * scan already refused the source text at load; this catches what text hides, such as
 * `Math['random']()`.) Not core: it replaces globals for the length of one run.
 */
import { UserError } from '../core/errors.ts';
import type { AnyFactor } from '../core/factor.ts';
import { checkContract, contractStreams, FactorContractError, runRows, sameRows, type ContractReport } from '../core/contract/checks.ts';
import { createFactorSet } from '../core/fold.ts';
import { factorCodeHash, featureSetVersion } from '../core/registry.ts';
import type { MarketEvent } from '../core/events.ts';

/** One factor's result: its contract report and code hash. */
export interface FactorCheck extends ContractReport {
  version: number;
  columns: readonly string[];
  codeHash: string;
}

/** Runs `fn` with Date, performance.now, process.hrtime and Math.random answering otherwise. */
function inMovedWorld<T>(fn: () => T): T {
  const RealDate = Date;
  const shift = 10 * 365 * 86_400_000;
  const realPerf = performance.now.bind(performance);
  const realRandom = Math.random;
  const realHr = process.hrtime;
  let s = 0x2545f491;
  // a subclass: `new Date()` and `Date.now()` both see the moved clock, `new Date(x)` is unchanged
  class MovedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + shift);
      else super(...(args as [number]));
    }
    static override now(): number {
      return RealDate.now() + shift;
    }
  }
  const hr = Object.assign((t?: [number, number]) => { const [a, b] = realHr(t); return [a + 315_360_000, b] as [number, number]; }, { bigint: () => realHr.bigint() + 315_360_000_000_000_000n });
  globalThis.Date = MovedDate as DateConstructor;
  performance.now = () => realPerf() + shift;
  Math.random = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  process.hrtime = hr as typeof process.hrtime;
  try {
    return fn();
  } finally {
    globalThis.Date = RealDate;
    performance.now = realPerf;
    Math.random = realRandom;
    process.hrtime = realHr;
  }
}

/** The factor gives the same bits with the clock and Math.random moved; else a contract error. */
export function checkMovedWorld(factor: AnyFactor, stream: readonly MarketEvent[]): void {
  const a = runRows(factor, stream);
  const b = inMovedWorld(() => runRows(factor, stream));
  const diff = sameRows(a.rows, b.rows);
  if (diff !== null) throw new FactorContractError(factor.name, 'purity', `its values change when the wall clock and Math.random change (${diff}): it reads a clock or randomness`);
}

/**
 * Checks each factor of `own` (generic contract checks and the moved-world run) and that the whole
 * `set` folds together; returns one report per factor and the set's feature-set version. Throws
 * the first failure as a one-line user error naming the file and the factor.
 */
export function checkFactors(file: string, own: readonly AnyFactor[], set: readonly AnyFactor[]): { checks: FactorCheck[]; featureSetVersion: string } {
  const streams = contractStreams();
  const checks = own.map((f) => {
    try {
      const report = checkContract(f, streams);
      checkMovedWorld(f, streams[0]);
      return { ...report, version: f.version, columns: f.columns, codeHash: factorCodeHash(f) };
    } catch (e) {
      if (e instanceof UserError) throw new UserError(`${file}: ${e.message}`);
      throw e;
    }
  });
  createFactorSet(set);
  return { checks, featureSetVersion: featureSetVersion(set) };
}
