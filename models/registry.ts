/**
 * The model registry: a folder holding every registered version of every model, each with its
 * content hash and what it was trained on, and the deployment log (deployment.ts) of the folder's
 * deployments. Replay reads it as it is; live mode reads the same versions and follows the log
 * entries that `lockstep models deploy|promote|rollback` append.
 *
 *   REGISTRY/models/<name>/<version>/model.json   the model file as registered (onnx.file → graph.onnx)
 *   REGISTRY/models/<name>/<version>/graph.onnx   the ONNX graph (onnx models only)
 *   REGISTRY/models/<name>/<version>/meta.json    { hash, registered, source, trained_on }
 *   REGISTRY/deployments.jsonl                    the deployment log, one entry per line, `at` as a
 *                                                 decimal string of epoch nanoseconds
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ModelError } from './errors.ts';
import type { DeploymentEntry } from './deployment.ts';
import { parseModelSpec, type ModelSpec } from './spec.ts';

export interface RegisteredVersion {
  spec: ModelSpec;
  /** sha256 of the model file's canonical text and its graph bytes. */
  hash: string;
  /** The folder of this version in the registry. */
  dir: string;
  /** The graph's bytes (onnx only). */
  graph: Uint8Array | null;
}

const LOG = 'deployments.jsonl';

/** sha256 of a model's spec text (as registered) and graph bytes: what `meta.json` records. */
export function modelHash(specText: string, graph: Uint8Array | null): string {
  const h = createHash('sha256').update(specText);
  if (graph !== null) h.update(graph);
  return h.digest('hex');
}

/** Reads a model file and its graph (onnx), as given by a user: errors name the file. */
export function readModelFile(file: string): { spec: ModelSpec; text: string; graph: Uint8Array | null; graphFile: string | null } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ModelError(file, `cannot read the model file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const spec = parseModelSpec(text, file);
  if (spec.onnx === null) return { spec, text, graph: null, graphFile: null };
  const graphFile = resolve(dirname(file), spec.onnx.file);
  try {
    return { spec, text, graph: new Uint8Array(readFileSync(graphFile)), graphFile };
  } catch (e) {
    throw new ModelError(file, `cannot read its ONNX graph ${graphFile} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Every registered version, by model name then version (ascending). */
export function listRegistry(registry: string): Map<string, RegisteredVersion[]> {
  const root = join(registry, 'models');
  const out = new Map<string, RegisteredVersion[]>();
  if (!existsSync(root)) return out;
  for (const name of readdirSync(root).sort()) {
    const versions: RegisteredVersion[] = [];
    for (const v of readdirSync(join(root, name)).filter((d) => /^\d+$/.test(d))) {
      const dir = join(root, name, v);
      const { spec, graph } = readModelFile(join(dir, 'model.json'));
      let meta: { hash?: string };
      try {
        meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { hash?: string };
      } catch (e) {
        throw new ModelError(join(dir, 'meta.json'), `cannot read the registration record (${(e as Error).message})`);
      }
      const text = readFileSync(join(dir, 'model.json'), 'utf8');
      const hash = modelHash(text, graph);
      if (meta.hash !== hash) throw new ModelError(dir, `content hash ${hash.slice(0, 12)}… differs from the registered ${String(meta.hash).slice(0, 12)}…: the registry was changed by hand`);
      versions.push({ spec, hash, dir, graph });
    }
    versions.sort((a, b) => a.spec.version - b.spec.version);
    if (versions.length > 0) out.set(name, versions);
  }
  return out;
}

/**
 * Copies a model file (and its graph) into the registry as `name@version`. Registering the same
 * content again is a no-op; other content under a taken version is refused.
 */
export function registerVersion(registry: string, file: string, extraMeta: Record<string, unknown> = {}): RegisteredVersion & { existed: boolean } {
  const { spec, text, graph } = readModelFile(file);
  const dir = join(registry, 'models', spec.name, String(spec.version));
  // the stored file names its graph graph.onnx, wherever the original lay
  const stored = spec.onnx === null ? text : JSON.stringify({ ...(JSON.parse(text) as object), onnx: { ...spec.onnx, file: 'graph.onnx' } }, null, 2) + '\n';
  const hash = modelHash(stored, graph);
  if (existsSync(join(dir, 'meta.json'))) {
    const old = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { hash: string };
    if (old.hash !== hash) throw new ModelError(file, `${spec.name}@${spec.version} is already registered with other content (hash ${old.hash.slice(0, 12)}…): give the model a new version`);
    return { spec: parseModelSpec(stored, join(dir, 'model.json')), hash, dir, graph, existed: true };
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), stored);
  if (graph !== null) writeFileSync(join(dir, 'graph.onnx'), graph);
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ hash, source: resolve(file), trained_on: spec.trainedOn, ...extraMeta }, null, 2) + '\n');
  return { spec: parseModelSpec(stored, join(dir, 'model.json')), hash, dir, graph, existed: false };
}

/** The registry's deployment log, in file order; a malformed line is a ModelError naming it. */
export function readDeploymentLog(registry: string): DeploymentEntry[] {
  const file = join(registry, LOG);
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: DeploymentEntry[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    out.push(entryFromJson(line, `${file} line ${i + 1}`));
  });
  return out;
}

/** One log entry from its JSON text (`at` a decimal string of nanoseconds). */
export function entryFromJson(line: string, where: string): DeploymentEntry {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch (e) {
    throw new ModelError(where, `not a deployment entry (${(e as Error).message})`);
  }
  if (typeof o.at !== 'string' || !/^\d{1,20}$/.test(o.at)) throw new ModelError(where, `field at: ${JSON.stringify(o.at)} must be epoch nanoseconds as a decimal string`);
  if (typeof o.slot !== 'string') throw new ModelError(where, 'field slot: missing');
  const e: DeploymentEntry = { ...(o as unknown as DeploymentEntry), at: BigInt(o.at) };
  if (o.late !== undefined) {
    const l = o.late as { shards?: unknown; at?: Record<string, unknown> };
    if (!Number.isSafeInteger(l?.shards) || typeof l.at !== 'object' || l.at === null || Object.values(l.at).some((v) => typeof v !== 'string' || !/^\d{1,20}$/.test(v))) {
      throw new ModelError(where, `field late: ${JSON.stringify(o.late)} must be {"shards": N, "at": {"<shard>": "<ns>"}}`);
    }
    e.late = { shards: l.shards as number, at: Object.fromEntries(Object.entries(l.at).map(([k, v]) => [Number(k), BigInt(v as string)])) };
  }
  return e;
}

/** An entry as one JSON line (`at` as a decimal string: nanoseconds stay exact). */
export function entryToJson(e: DeploymentEntry): string {
  const late = e.late === undefined ? undefined : { shards: e.late.shards, at: Object.fromEntries(Object.entries(e.late.at).map(([k, v]) => [k, v.toString()])) };
  return JSON.stringify({ ...e, at: e.at.toString(), ...(late ? { late } : {}) });
}

export function appendDeployment(registry: string, e: DeploymentEntry): void {
  mkdirSync(registry, { recursive: true });
  appendFileSync(join(registry, LOG), entryToJson(e) + '\n');
}
