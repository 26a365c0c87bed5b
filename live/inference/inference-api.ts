/**
 * The Open Inference Protocol (KServe V2 REST) on `lockstep serve --registry DIR`, so an order
 * engine or tool that speaks it can ask a registered model for a prediction:
 *
 *   GET  /v2/health/live                                   {"live": true}
 *   GET  /v2/health/ready                                  {"ready": true} while Redis answers (503 otherwise)
 *   GET  /v2                                               server metadata
 *   GET  /v2/models/{name}[/versions/{v}]                  model metadata
 *   GET  /v2/models/{name}[/versions/{v}]/ready            {"name", "ready"} (503 when not ready)
 *   POST /v2/models/{name}[/versions/{v}]/infer            inference
 *
 * Inference evaluates each row through the same `runnableModel` as the fold (the same
 * standardisation, clipping and missing-value policy, row by row, so a value never depends on how
 * many rows came together), on the features the request passes (infer-request.ts) or on the live
 * features of `parameters.symbols`, read from the latest-value hashes in one round trip with the
 * API's read-only Redis user (the same reads as GET /v1/features).
 *
 * Which version: the one the URL names; else, for live symbols, the one that made the symbol's
 * streamed signal: the deployment log as of the receive time of the symbol's latest row, the
 * canary for the symbols in its share (deployment.ts `inCanary`), the incumbent for the rest; for
 * passed features, the incumbent as of now. Outputs, one value per row: the model's outputs
 * (FP64, null where the row has no value), `model_version` (INT64, 0 for none) and `status`
 * (INT32: 0 ok, 1 an input missing, 2 the model failed, 3 none deployed, 4 killed: the kill
 * switch withholds the symbol, 5 stale: computed from features older than --max-age-ms).
 *
 * Errors are the protocol's `{"error": "..."}`: 404 for an unknown model, 400 for a bad request
 * (unknown version, wrong tensor shape or datatype, unknown feature, too many rows), 413 for a
 * body over the limit, 503 when Redis, the log or the model cannot serve.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UserError } from '../../core/errors.ts';
import { QueryError, readRaw } from '../client.ts';
import type { ApiExtension } from '../http-api.ts';
import type { KeyLayout } from '../keys.ts';
import { killFor } from '../kill-switch.ts';
import type { FeatureSource } from '../row-reader.ts';
import { lockstepVersion } from '../../replay/lineage.ts';
import { assignmentAt, inCanary, type DeploymentEntry } from '../../models/deployment.ts';
import { featureRows, InferRequestError, parseInferRequest, type InferRequest } from './infer-request.ts';
import { RegistryView, registryDeploymentLog, type DeploymentLogSource, type ServedVersion } from './inference-models.ts';
import { MODEL_STATUS } from '../../models/model.ts';

/** Per-row status of an inference: the fold's (model.ts MODEL_STATUS) and the live read's. */
export const INFER_STATUS = { ...MODEL_STATUS, killed: 4, stale: 5 } as const;

/** Request bounds: body bytes (JSON) and rows (feature rows or symbols) per request. */
export const INFER_LIMITS = { bodyBytes: 1 << 20, rows: 1000 } as const;

export interface InferenceApiOptions {
  registry: string;
  source: FeatureSource;
  keys: KeyLayout;
  /** Live features older than this (ms since computed) give status 5, stale. Default 5000. */
  maxAgeMs?: number;
  /** The deployment log; default the registry's deployments.jsonl. */
  log?: DeploymentLogSource;
  limits?: { bodyBytes: number; rows: number };
}

/** A body beyond this is not even read to its end: the connection is closed after the 413. */
const DRAIN_CAP = 64 << 20;
const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(?:\/(ready|infer))?$/;
const VERSION_RE = /^\d{1,15}$/;

class HttpError extends InferRequestError {}

/** The inference endpoints as an extension of `lockstep serve`'s server (live/http-api.ts). */
export function inferenceApi(opts: InferenceApiOptions): ApiExtension & { readonly view: RegistryView } {
  const view = new RegistryView(opts.registry);
  const readLog = opts.log ?? registryDeploymentLog(opts.registry);
  const limits = opts.limits ?? INFER_LIMITS;
  const maxAgeMs = opts.maxAgeMs ?? 5000;

  const label = (p: string): string | null => {
    if (p === '/v2' || p === '/v2/') return '/v2';
    if (p === '/v2/health/live' || p === '/v2/health/ready') return p;
    const m = MODEL_PATH.exec(p);
    if (m) return `/v2/models/{name}${m[3] ? `/${m[3]}` : ''}`;
    return p.startsWith('/v2/') ? '/v2/other' : null;
  };

  /** The model and version a path names (version undefined: the server's choice). */
  const resolve = (rawName: string, rawVersion: string | undefined): { name: string; versions: Map<number, ServedVersion>; version: number | undefined } => {
    let name: string;
    try {
      name = decodeURIComponent(rawName);
    } catch {
      throw new HttpError(`model name ${JSON.stringify(rawName)} is not valid percent-encoding`);
    }
    let version: number | undefined;
    if (rawVersion !== undefined) {
      if (!VERSION_RE.test(rawVersion)) throw new HttpError(`version ${JSON.stringify(rawVersion)} must be a whole number (a registered version of ${name})`);
      version = Number(rawVersion);
    }
    const versions = view.versions(name, version);
    if (versions === undefined) throw new HttpError(`unknown model ${JSON.stringify(name)}; registered: ${view.names().join(', ') || 'none'}`, 404);
    if (version !== undefined && !versions.has(version)) throw new HttpError(`${name} has no version ${version}; registered: ${[...versions.keys()].join(', ')}`);
    return { name, versions, version };
  };

  const nowNs = () => BigInt(Date.now()) * 1_000_000n;
  /** The version that serves requests without a symbol: the incumbent as of now. */
  const incumbent = (log: readonly DeploymentEntry[], name: string) => assignmentAt(log, name, nowNs()).incumbent;

  const route = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<number> => {
    const p = url.pathname;
    const isInfer = p.endsWith('/infer') && MODEL_PATH.test(p);
    if (req.method !== (isInfer ? 'POST' : 'GET')) {
      res.setHeader('allow', isInfer ? 'POST' : 'GET');
      return send(res, 405, { error: `${p} takes ${isInfer ? 'POST' : 'GET'}` });
    }
    if (p === '/v2/health/live') return send(res, 200, { live: true });
    if (p === '/v2/health/ready') {
      try {
        await opts.source.ping();
        return send(res, 200, { ready: true });
      } catch (e) {
        return send(res, 503, { ready: false, error: `redis: ${(e as Error).message}` });
      }
    }
    if (p === '/v2' || p === '/v2/') return send(res, 200, { name: 'lockstep', version: lockstepVersion(), extensions: [] });
    const m = MODEL_PATH.exec(p);
    if (!m) return send(res, 404, { error: `not found: ${p}; see /v2/models/{name}[/versions/{v}][/ready|/infer]` });
    const { name, versions, version } = resolve(m[1], m[2]);
    const log = await readLog();
    if (m[3] === undefined) {
      // no version named: describe the one serving now, else the newest registered
      const v = version ?? incumbent(log, name) ?? [...versions.keys()].pop()!;
      return send(res, 200, metadata(name, versions, versions.get(v) ?? [...versions.values()].pop()!));
    }
    if (m[3] === 'ready') {
      const v = version ?? incumbent(log, name);
      const served = v === null ? undefined : versions.get(v);
      const ready = served !== undefined && served.model !== null;
      return send(res, ready ? 200 : 503, { name, ...(v !== null ? { version: String(v) } : {}), ready, ...(served?.error ? { error: served.error } : {}) });
    }
    const text = await readBody(req, limits.bodyBytes);
    if (text === null) {
      res.setHeader('connection', 'close');
      return send(res, 413, { error: `request body larger than ${limits.bodyBytes} bytes` });
    }
    const request = parseInferRequest(text, limits.rows);
    const result = request.inputs !== null ? inferFeatures(name, versions, version ?? incumbent(log, name), request) : await inferSymbols(name, versions, version, log, request);
    return send(res, 200, result);
  };

  const inferFeatures = (name: string, versions: Map<number, ServedVersion>, version: number | null, request: InferRequest) => {
    if (version === null) throw new HttpError(`${name} has no version deployed; name one: /v2/models/${name}/versions/{${[...versions.keys()].join('|')}}/infer`);
    const served = versions.get(version) ?? view.versions(name, version)?.get(version);
    if (served === undefined) throw new HttpError(`the deployment log serves ${name}@${version}, which is not registered`, 503);
    if (served.model === null) throw new HttpError(`${name}@${version} cannot be evaluated here: ${served.error}`, 503);
    const spec = served.spec;
    const { rows, x } = featureRows(request.inputs!, spec.inputs, `${name}@${version}`, limits.rows);
    const n = spec.inputs.length;
    const out = new Outputs(rows, spec.outputs);
    const raw = new Float64Array(n);
    for (let r = 0; r < rows; r++) {
      raw.set(x.subarray(r * n, r * n + n));
      out.set(r, version, served.model.run(raw, out.row), spec.outputs);
    }
    return response(name, request, out, [version]);
  };

  const inferSymbols = async (name: string, versions: Map<number, ServedVersion>, version: number | undefined, log: readonly DeploymentEntry[], request: InferRequest) => {
    const symbols = request.symbols!;
    // one read for every version a row may use: the named one, or all of them
    const used = version !== undefined ? [versions.get(version)!] : [...versions.values()];
    const features: string[] = [];
    for (const v of used) for (const f of v.spec.inputs) if (!features.includes(f)) features.push(f);
    const { rows, cols, kill } = await readRaw(opts.source, opts.keys, { symbols, features });
    if (rows.some((r) => r !== null)) {
      const absent = features.filter((_, j) => cols[j] < 0);
      if (absent.length > 0 && version !== undefined) throw new HttpError(`${name}@${version} reads ${absent.join(', ')}, which this deployment does not compute`);
    }
    const names: string[] = [];
    for (const v of used) for (const o of v.spec.outputs) if (!names.includes(o)) names.push(o);
    const out = new Outputs(symbols.length, names);
    const nowMs = Date.now();
    const now = nowNs();
    const maxAge = request.maxAgeMs ?? maxAgeMs;
    const served = new Set<number>();
    for (let i = 0; i < symbols.length; i++) {
      const symbol = symbols[i];
      const row = rows[i];
      const parts = row === null ? null : row.split('|');
      // the version of the symbol's streamed signal: the log as of its latest row's receive time
      let v: number | null = version ?? null;
      if (version === undefined) {
        const a = assignmentAt(log, name, parts === null ? now : BigInt(parts[1]));
        v = a.mode === 'canary' && a.candidate !== null && inCanary(name, symbol, a.percent) ? a.candidate : a.incumbent;
      }
      // a version the log names but serve has not loaded: registered since it started
      const sv = v === null ? undefined : (versions.get(v) ?? view.versions(name, v)?.get(v));
      if (v !== null) served.add(v);
      if (killFor(kill, symbol) !== null) out.set(i, v, INFER_STATUS.killed);
      else if (v === null) out.set(i, null, INFER_STATUS.undeployed);
      else if (sv === undefined || sv.model === null) out.set(i, v, INFER_STATUS.error);
      else if (parts === null) out.set(i, v, INFER_STATUS.missing);
      else {
        const values = parts[6].split(',');
        const ins = sv.spec.inputs;
        const raw = new Float64Array(ins.length);
        for (let k = 0; k < ins.length; k++) {
          const c = cols[features.indexOf(ins[k])];
          const t = c < 0 ? '' : (values[c] ?? '');
          raw[k] = t === '' ? NaN : Number(t);
        }
        const status = sv.model.run(raw, out.row);
        out.set(i, v, status === INFER_STATUS.ok && nowMs - Number(parts[4]) > maxAge ? INFER_STATUS.stale : status, sv.spec.outputs);
      }
    }
    return response(name, request, out, [...served].sort((a, b) => a - b));
  };

  return {
    view,
    label,
    async handle(req, res, url) {
      try {
        return await route(req, res, url);
      } catch (e) {
        if (res.headersSent) {
          res.destroy();
          return 500;
        }
        if (e instanceof InferRequestError) return send(res, e.status, { error: e.message });
        // a QueryError (a bad symbol name), or a model file or log the user made wrong
        if (e instanceof UserError) return send(res, e instanceof QueryError ? 400 : 503, { error: e.message });
        return send(res, 503, { error: `redis: ${(e as Error).message}` });
      }
    },
  };
}

/** The response's tensors, filled row by row. */
class Outputs {
  readonly values: Float64Array[];
  readonly versions: number[];
  readonly status: number[];
  /** One row's outputs, in `names` order of the version evaluated (what `run` writes into). */
  readonly row: Float64Array;

  constructor(
    readonly rows: number,
    readonly names: readonly string[],
  ) {
    this.values = names.map(() => new Float64Array(rows).fill(NaN));
    this.versions = new Array(rows).fill(0);
    this.status = new Array(rows).fill(INFER_STATUS.missing);
    this.row = new Float64Array(names.length);
  }

  /** Row r: its version, status, and (status ok or stale) `row`'s values for the version's `outputs`. */
  set(r: number, version: number | null, status: number, outputs: readonly string[] = []): void {
    this.versions[r] = version ?? 0;
    this.status[r] = status;
    if (status !== INFER_STATUS.ok && status !== INFER_STATUS.stale) return;
    outputs.forEach((o, k) => (this.values[this.names.indexOf(o)][r] = this.row[k]));
  }
}

/** The protocol's response: `model_version` the version of every row, or the versions used, ascending, comma-joined. */
function response(name: string, request: InferRequest, out: Outputs, versions: readonly number[]) {
  const tensors = [
    ...out.names.map((o, k) => ({ name: o, datatype: 'FP64', shape: [out.rows], data: Array.from(out.values[k]) })),
    { name: 'model_version', datatype: 'INT64', shape: [out.rows], data: out.versions },
    { name: 'status', datatype: 'INT32', shape: [out.rows], data: out.status },
  ];
  let outputs = tensors;
  if (request.outputs !== null) {
    const unknown = request.outputs.filter((o) => !tensors.some((t) => t.name === o));
    if (unknown.length > 0) throw new HttpError(`unknown output ${unknown.join(', ')}; ${name} gives ${tensors.map((t) => t.name).join(', ')}`);
    outputs = tensors.filter((t) => request.outputs!.includes(t.name));
  }
  return {
    model_name: name,
    ...(versions.length > 0 ? { model_version: versions.join(',') } : {}),
    ...(request.id !== undefined ? { id: request.id } : {}),
    outputs,
  };
}

/** The protocol's model metadata of one version (and the versions that may be named). */
function metadata(name: string, versions: Map<number, ServedVersion>, v: ServedVersion) {
  return {
    name,
    versions: [...versions.keys()].map(String),
    platform: `lockstep-${v.spec.kind}`,
    // one [N] tensor per feature in the model's order, or all of them as "input" [N, n] in this order
    inputs: v.spec.inputs.map((f) => ({ name: f, datatype: 'FP64', shape: [-1] })),
    outputs: [
      ...v.spec.outputs.map((o) => ({ name: o, datatype: 'FP64', shape: [-1] })),
      { name: 'model_version', datatype: 'INT64', shape: [-1] },
      { name: 'status', datatype: 'INT32', shape: [-1] },
    ],
  };
}

function send(res: ServerResponse, code: number, body: unknown): number {
  // JSON.stringify prints NaN as null: a row without a value
  res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
  return code;
}

/**
 * The request body as text, or null when it is larger than `limit` bytes. An oversized body is
 * still read to its end (discarded) so the client gets the 413 instead of a reset connection,
 * unless it declares more than DRAIN_CAP.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > DRAIN_CAP) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
      else if (size > DRAIN_CAP) {
        req.destroy();
        resolve(null);
      }
    });
    req.on('end', () => resolve(size > limit ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
