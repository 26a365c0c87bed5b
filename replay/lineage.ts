/**
 * Lineage: what an output was computed by and from, carried in its metadata so a model trained on
 * it can later be checked against the feature set that serves it (`lockstep lineage A B`).
 *
 * - `lockstepVersion`: package.json's version;
 * - `featureSetVersion` and, per factor, its name, version, parameters and code hash (the hash of
 *   its definition's source, core/registry.ts factorManifest): a factor whose code or parameters
 *   changed has another hash or parameters, whatever its name;
 * - `inputs`: each catalog file read, with its size and the sha256 of its bytes.
 *
 * Hashing reads every input once more. It is done once per file per process (cached by path,
 * size and modification time) and streamed in 1 MiB chunks, so memory stays flat whatever the
 * file's size; the cost on a real day is in the README ("Lineage").
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { UsageError } from '../core/errors.ts';
import type { SessionTable } from '../core/fold.ts';
import type { AnyFactor } from '../core/factor.ts';
import { factorManifest, featureSetVersion } from '../core/registry.ts';
import type { SymbolStage } from '../core/stage.ts';

/** One factor as lineage records it. */
export interface LineageFactor {
  name: string;
  version: number;
  params: Record<string, unknown>;
  columns: string[];
  codeHash: string;
}

/** One input file read. */
export interface LineageInput {
  path: string;
  bytes: number;
  sha256: string;
}

/** The models that computed an output's signal columns (a run with `--registry`). */
export interface ModelsLineage {
  /** `name@version` → sha256 of the registered version. */
  models: Record<string, string>;
  /** sha256 of the deployment log's bytes: the same log gives the same deploys and rollbacks. */
  deploymentLog: string;
  deployments: number;
}

/**
 * Model stages over a factor set's columns, with their lineage: how a run with `--registry` adds
 * signal columns (models/stages-for.ts makes it; replay and training sets take it as a function so
 * they need not know the model layer).
 */
export type StagesFor = (columns: readonly string[]) => { stages: SymbolStage[]; lineage: ModelsLineage };

/** What an output was computed by (Lockstep, the feature set, each factor's code) and from (the files). */
export interface Lineage {
  lockstepVersion: string;
  featureSetVersion: string;
  factors: LineageFactor[];
  inputs: LineageInput[];
  /** Present when models computed signal columns (their stages are in `featureSetVersion`). */
  models?: ModelsLineage;
}

// this file is replay/lineage.ts in a checkout, dist/replay/lineage.js when built
const PACKAGE_JSON = new URL(import.meta.url.endsWith('.ts') ? '../package.json' : '../../package.json', import.meta.url);
let version: string | undefined;

/** Lockstep's version, from its package.json. */
export function lockstepVersion(): string {
  version ??= String((JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version?: unknown }).version ?? 'unknown');
  return version;
}

const hashes = new Map<string, { size: number; mtimeMs: number; sha256: string }>();
const CHUNK = 1 << 20;

/** sha256 of a file's bytes, streamed; computed once per process unless the file changed. */
export function fileSha256(path: string): { bytes: number; sha256: string } {
  const st = statSync(path);
  const hit = hashes.get(path);
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return { bytes: hit.size, sha256: hit.sha256 };
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  const fd = openSync(path, 'r');
  try {
    for (let n = readSync(fd, buf, 0, CHUNK, null); n > 0; n = readSync(fd, buf, 0, CHUNK, null)) h.update(n === CHUNK ? buf : buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  const sha256 = h.digest('hex');
  hashes.set(path, { size: st.size, mtimeMs: st.mtimeMs, sha256 });
  return { bytes: st.size, sha256 };
}

/**
 * The lineage of an output computed by `factors` from `files` (paths, or anything with a `path`,
 * such as the catalog files a replay selected). For training sets and any other output. With
 * `root` (the catalog), paths are recorded relative to it (`trade/2024-03-15/AAPL.parquet`), so
 * the same data gives the same lineage, and the same output bytes, wherever the catalog lives.
 */
export function lineageOf({ factors, sessions, files, root, stages, models }: { factors: readonly AnyFactor[]; sessions?: SessionTable; files: readonly (string | { path: string })[]; root?: string; stages?: readonly SymbolStage[]; models?: ModelsLineage }): Lineage {
  return {
    lockstepVersion: lockstepVersion(),
    // the session table counts when a factor reads it (session=auto), as in every other version
    featureSetVersion: featureSetVersion(factors, sessions, stages),
    factors: factorManifest(factors).map((f) => ({ name: f.name, version: f.version, params: f.params, columns: [...f.columns], codeHash: f.codeHash })),
    inputs: files.map((f) => {
      const path = typeof f === 'string' ? f : f.path;
      return { path: root === undefined ? path : relative(root, path).split(sep).join('/'), ...fileSha256(path) };
    }),
    ...(models !== undefined ? { models } : {}),
  };
}

/**
 * The lineage stored in an output: a Parquet file's Lockstep metadata (a replay's factor table, a
 * training set), a parity certificate (JSON), or a lineage JSON itself. A UsageError names the
 * file and says what is missing.
 */
export async function readLineage(path: string): Promise<Lineage> {
  let found: unknown;
  if (/\.json$/i.test(path)) {
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UsageError(`${path}: ${code === 'ENOENT' ? 'no such file' : code ? `cannot read it (${code})` : `not JSON (${(e as Error).message})`}`);
    }
    found = isLineage(doc) ? doc : (doc as { lineage?: unknown } | null)?.lineage;
  } else {
    const { lockstepMetadata, openParquet } = await import('./parquet-io.ts');
    found = lockstepMetadata(await openParquet(path)).lineage;
  }
  if (!isLineage(found)) throw new UsageError(`${path}: holds no lineage (written by a Lockstep without lineage, or not a Lockstep output)`);
  return found;
}

function isLineage(v: unknown): v is Lineage {
  const l = v as Lineage | null;
  return typeof l === 'object' && l !== null && typeof l.featureSetVersion === 'string' && Array.isArray(l.factors) && Array.isArray(l.inputs);
}

const short = (h: string) => h.slice(0, 12);

/** A lineage as lines for a terminal. */
export function formatLineage(l: Lineage, title: string): string[] {
  const bytes = l.inputs.reduce((a, f) => a + f.bytes, 0);
  const width = Math.max(0, ...l.factors.map((f) => f.name.length));
  return [
    `lineage of ${title}`,
    `  Lockstep ${l.lockstepVersion}, feature set ${l.featureSetVersion} (${l.factors.length} factors)`,
    '  factors (name, version, code hash, parameters):',
    ...l.factors.map((f) => `    ${f.name.padEnd(width)}  v${f.version}  ${short(f.codeHash)}  ${JSON.stringify(f.params)}`),
    `  inputs (${l.inputs.length} files, ${bytes.toLocaleString('en-US')} bytes; sha256, path):`,
    ...l.inputs.map((f) => `    ${short(f.sha256)}  ${f.path}`),
    ...(l.models ? [`  models (sha256, name@version; deployment log ${short(l.models.deploymentLog)}, ${l.models.deployments} changes):`, ...Object.entries(l.models.models).map(([k, h]) => `    ${short(h)}  ${k}`)] : []),
  ];
}

/** How two lineages' feature sets relate: can B serve a model trained on A's features? */
export interface LineageComparison {
  /** Every factor of A is in B with the same version, parameters, columns and code hash. */
  servable: boolean;
  sameFeatureSet: boolean;
  /** Factors of A that B has in another version, with other parameters, columns or code. */
  changed: { name: string; what: string[] }[];
  onlyInA: string[];
  onlyInB: string[];
}

/** Compares the feature sets of A (what a model was trained on) and B (what would serve it). */
export function compareLineage(a: Lineage, b: Lineage): LineageComparison {
  const inB = new Map(b.factors.map((f) => [f.name, f]));
  const changed: LineageComparison['changed'] = [];
  const onlyInA: string[] = [];
  for (const f of a.factors) {
    const g = inB.get(f.name);
    if (!g) {
      onlyInA.push(f.name);
      continue;
    }
    const what: string[] = [];
    if (f.version !== g.version) what.push(`version ${f.version} -> ${g.version}`);
    if (JSON.stringify(f.params) !== JSON.stringify(g.params)) what.push(`params ${JSON.stringify(f.params)} -> ${JSON.stringify(g.params)}`);
    if (f.codeHash !== g.codeHash) what.push(`code hash ${short(f.codeHash)} -> ${short(g.codeHash)}`);
    if (JSON.stringify(f.columns) !== JSON.stringify(g.columns)) what.push(`columns ${f.columns.join(',')} -> ${g.columns.join(',')}`);
    if (what.length > 0) changed.push({ name: f.name, what });
  }
  const inA = new Set(a.factors.map((f) => f.name));
  const onlyInB = b.factors.filter((f) => !inA.has(f.name)).map((f) => f.name);
  return { servable: changed.length === 0 && onlyInA.length === 0, sameFeatureSet: a.featureSetVersion === b.featureSetVersion, changed, onlyInA, onlyInB };
}

/** The comparison as lines: a verdict, then what differs. */
export function formatComparison(c: LineageComparison, a: Lineage, b: Lineage, names: [string, string]): string[] {
  const out: string[] = [];
  if (c.servable) {
    out.push(c.sameFeatureSet
      ? `SERVABLE: a model trained on ${names[0]} can be served by ${names[1]} (feature set ${a.featureSetVersion} on both: ${a.factors.length} factors, same code hashes)`
      : `SERVABLE: a model trained on ${names[0]} can be served by ${names[1]} (every factor of it is there with the same code hash and parameters; feature sets ${a.featureSetVersion} and ${b.featureSetVersion} differ only by factors ${names[1]} adds)`);
  } else {
    const n = c.changed.length + c.onlyInA.length;
    out.push(`NOT SERVABLE: a model trained on ${names[0]} cannot be served by ${names[1]}: feature set ${a.featureSetVersion} vs ${b.featureSetVersion}, ${n} of its factors differ or are missing`);
  }
  for (const f of c.changed) out.push(`  changed: ${f.name}: ${f.what.join('; ')}`);
  if (c.onlyInA.length > 0) out.push(`  only in ${names[0]}: ${c.onlyInA.join(', ')}`);
  if (c.onlyInB.length > 0) out.push(`  only in ${names[1]}: ${c.onlyInB.join(', ')}`);
  if (a.lockstepVersion !== b.lockstepVersion) out.push(`  Lockstep ${a.lockstepVersion} (${names[0]}) vs ${b.lockstepVersion} (${names[1]})`);
  return out;
}
