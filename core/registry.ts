/**
 * The default factor set and its manifest: every output column can be traced to a factor's name,
 * version, parameters and a hash of the code that computed it.
 */
import type { AnyFactor } from './factor.ts';
import { createFactorSet, type FactorSet } from './fold.ts';
import { hashString } from './state-codec.ts';
import { eventCount } from './factors/event-count.ts';
import { lastPrice } from './factors/last-price.ts';

export const DEFAULT_FACTORS: readonly AnyFactor[] = [lastPrice, eventCount];

export interface FactorManifestEntry {
  name: string;
  version: number;
  params: Record<string, unknown>;
  columns: readonly string[];
  inputs: readonly string[];
  warmup: string;
  description: string;
  /** FNV-1a 64 of the factor's init, update and extras source text. */
  codeHash: string;
}

/** Hash of the code that defines a factor's behaviour (not its parameters, listed separately). */
export function factorCodeHash(f: AnyFactor): string {
  const extras = Object.entries(f.extras ?? {}).map(([k, fn]) => `${k}:${fn.toString()}`);
  return hashString([f.init.toString(), f.update.toString(), ...extras].join('\n'));
}

export function factorManifest(factors: readonly AnyFactor[]): FactorManifestEntry[] {
  return factors.map((f) => ({
    name: f.name,
    version: f.version,
    params: { ...f.params },
    columns: f.columns,
    inputs: f.inputs,
    warmup: f.warmup,
    description: f.description,
    codeHash: factorCodeHash(f),
  }));
}

/** Version of the whole set: changes when any factor's name, version, params or code changes. */
export function featureSetVersion(factors: readonly AnyFactor[]): string {
  return hashString(JSON.stringify(factorManifest(factors)));
}

export function defaultFactorSet(): FactorSet {
  return createFactorSet(DEFAULT_FACTORS);
}
