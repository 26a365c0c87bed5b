/**
 * Checks of the Kubernetes manifests in deploy/, offline: each object against the real schema of
 * its kind (Kubernetes 1.35's OpenAPI v3 for Deployment, Service and Secret; KEDA's CRDs for
 * ScaledObject and TriggerAuthentication; deploy/schemas/README.md says where they come from),
 * each command line against the real `lockstep` yargs definitions, and the cross-references
 * between the objects against the code (stream names from live/keys.ts, the consumer group).
 *
 * Strict like `kubectl apply --validate=strict`: a field the schema does not declare is an error
 * (the API server would drop or refuse it), except under `x-kubernetes-preserve-unknown-fields`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import yargs from 'yargs';
import { parseAllDocuments } from 'yaml';
import { COMMANDS } from '../cli/commands/index.ts';

export const DEPLOY_DIR = new URL('.', import.meta.url).pathname;

/** One Kubernetes object and the file it came from. */
export interface Manifest {
  file: string;
  doc: Record<string, any>;
}

/** Every object of every .yaml file in `dir` (kustomization.yaml included). */
export function loadManifests(dir = DEPLOY_DIR): Manifest[] {
  const out: Manifest[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const d of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0].message}`);
      const doc = d.toJS();
      if (doc !== null) out.push({ file, doc });
    }
  }
  return out;
}

const readJson = (name: string) => JSON.parse(readFileSync(join(DEPLOY_DIR, 'schemas', name), 'utf8'));

/**
 * Closes every object schema that lists its properties (additionalProperties: false), as
 * kubeconform's -strict and kubectl's strict field validation do; OpenAPI leaves them open.
 */
function closeObjects(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(closeObjects);
  if (s === null || typeof s !== 'object') return s;
  const o = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === 'enum' || k === 'default' || k === 'example' ? v : closeObjects(v)]));
  if (o.properties && typeof o.properties === 'object' && o.additionalProperties === undefined && o['x-kubernetes-preserve-unknown-fields'] !== true) o.additionalProperties = false;
  return o;
}

/** An Ajv with the OpenAPI formats Kubernetes uses (int32 and int64 checked, the others as strings). */
function newAjv(): Ajv {
  // strict: false, because OpenAPI's x-kubernetes-* keywords and `$ref` siblings are not JSON Schema
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
  for (const f of ['date-time', 'int-or-string', 'double']) ajv.addFormat(f, true);
  return ajv;
}

/** Validates objects by apiVersion and kind; `validate` returns the errors, [] when it conforms. */
export class SchemaValidator {
  private readonly byKind = new Map<string, ValidateFunction>();
  private readonly meta: ValidateFunction;

  constructor() {
    const ajv = newAjv();
    const k8s = closeObjects(readJson('kubernetes-1.35.json')) as { components: { schemas: Record<string, any> } };
    ajv.addSchema(k8s, 'k8s');
    const ref = (name: string) => ajv.compile({ $ref: `k8s#/components/schemas/${name}` });
    for (const [name, s] of Object.entries(k8s.components.schemas)) {
      for (const gvk of s['x-kubernetes-group-version-kind'] ?? []) {
        if (name.startsWith('io.k8s.apimachinery')) continue; // DeleteOptions, WatchEvent: listed under every group
        this.byKind.set(`${gvk.group ? `${gvk.group}/` : ''}${gvk.version}/${gvk.kind}`, ref(name));
      }
    }
    // a CRD's schema says only `metadata: {type: object}`; the API server checks it as ObjectMeta
    this.meta = ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    for (const file of ['keda-scaledobject.json', 'keda-triggerauthentication.json']) {
      const crd = readJson(file);
      this.byKind.set(`${crd.group}/${crd.version}/${crd.kind}`, ajv.compile(closeObjects(crd.openAPIV3Schema) as object));
    }
  }

  /** The kinds this validator knows, as `apiVersion/kind`. */
  kinds(): string[] {
    return [...this.byKind.keys()];
  }

  validate(doc: Record<string, any>): string[] {
    const kind = `${doc.apiVersion}/${doc.kind}`;
    const v = this.byKind.get(kind);
    if (!v) return [`no schema for ${kind}`];
    const errors = (f: ValidateFunction, x: unknown, at = '') => (f(x) ? [] : (f.errors ?? []).map((e) => `${at}${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? `: ${e.params.additionalProperty}` : ''}`));
    return [...errors(v, doc), ...errors(this.meta, doc.metadata ?? {}, '/metadata')];
  }
}

/**
 * A container's command line as the kubelet runs it: `$(VAR)` replaced by the container's env
 * (a literal value, a Secret's key from `secrets`, a field reference by `fields`). A reference to
 * a variable the container does not define is an error here (Kubernetes would pass it on as is).
 */
export function expandArgs(container: Record<string, any>, secrets: Record<string, Record<string, string>>, fields: Record<string, string>): string[] {
  const env = new Map<string, string>();
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env.set(e.name, e.value);
    else if (e.valueFrom?.secretKeyRef) {
      const { name, key } = e.valueFrom.secretKeyRef;
      const v = secrets[name]?.[key];
      if (v === undefined) throw new Error(`${container.name}: env ${e.name} reads key ${key} of Secret ${name}, which it does not have`);
      env.set(e.name, v);
    } else if (e.valueFrom?.fieldRef) env.set(e.name, fields[e.valueFrom.fieldRef.fieldPath] ?? `<${e.valueFrom.fieldRef.fieldPath}>`);
  }
  return [...(container.command ?? []), ...(container.args ?? [])].map((a: string) =>
    a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_m, name: string) => {
      const v = env.get(name);
      if (v === undefined) throw new Error(`${container.name}: $(${name}) is not defined in its env`);
      return v;
    }),
  );
}

/**
 * Parses a `lockstep ...` argument list with the CLI's own command definitions, strictly (an
 * unknown flag, a missing required one or a value of the wrong kind throws), without running it:
 * the handler only returns the parsed arguments.
 */
export async function parseLockstepArgs(argv: readonly string[]): Promise<Record<string, unknown>> {
  let parsed: Record<string, unknown> | null = null;
  const capture = COMMANDS.map((c) => ({ ...c, handler: (a: Record<string, unknown>) => void (parsed = a) }));
  await yargs([...argv])
    .command(capture as any)
    .demandCommand(1)
    .strict()
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    })
    .parseAsync();
  if (parsed === null) throw new Error(`not a lockstep command: ${argv.join(' ')}`);
  return parsed;
}

/** What the manifests say about the deployment, read from the worker's command line. */
export interface Deployment {
  ns: string;
  shards: number;
  group: string;
}

const find = (ms: readonly Manifest[], kind: string, name?: string) => ms.filter((m) => m.doc.kind === kind && (name === undefined || m.doc.metadata?.name === name)).map((m) => m.doc);
const container = (d: Record<string, any>) => d.spec.template.spec.containers[0];

/** The Secrets the manifests refer to, as key → value (`stringData`, or `data` decoded). */
export function secretValues(ms: readonly Manifest[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const s of find(ms, 'Secret')) {
    const data = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString()]));
    out[s.metadata.name] = { ...data, ...(s.stringData ?? {}) };
  }
  return out;
}

/**
 * Everything that must agree across the objects and with the code, as a list of problems ([]
 * when all agree): the worker and serve command lines parse and name the same namespace and
 * shard count; the ScaledObject scales the worker Deployment, has one trigger per shard on the
 * stream `streamName` gives, in the worker's consumer group, adds them all in its formula, and
 * runs at most one worker per shard; the references (Secret keys, TriggerAuthentication, Service
 * selector and ports, probe ports) resolve.
 */
export async function crossCheck(ms: readonly Manifest[], streamName: (d: Deployment, shard: number) => string): Promise<{ problems: string[]; deployment: Deployment | null }> {
  const problems: string[] = [];
  const secrets = secretValues(ms);
  const [worker] = find(ms, 'Deployment', 'lockstep-worker');
  const [serve] = find(ms, 'Deployment', 'lockstep-serve');
  const [so] = find(ms, 'ScaledObject');
  const [auth] = find(ms, 'TriggerAuthentication');
  const [svc] = find(ms, 'Service', 'lockstep-serve');
  if (!worker || !serve || !so || !auth || !svc) return { problems: ['missing one of: Deployment lockstep-worker, Deployment lockstep-serve, ScaledObject, TriggerAuthentication, Service lockstep-serve'], deployment: null };

  const parse = async (d: Record<string, any>) => {
    const argv = expandArgs(container(d), secrets, { 'metadata.name': `${d.metadata.name}-pod` });
    if (argv[0] !== 'lockstep') problems.push(`${d.metadata.name}: runs ${argv[0]}, not lockstep`);
    try {
      return await parseLockstepArgs(argv.slice(1));
    } catch (e) {
      problems.push(`${d.metadata.name}: ${(e as Error).message}`);
      return null;
    }
  };
  const w = await parse(worker);
  const s = await parse(serve);
  if (!w || !s) return { problems, deployment: null };
  if (w._ && (w._ as string[])[0] !== 'live') problems.push(`lockstep-worker: runs lockstep ${(w._ as string[])[0]}, not live`);
  if (w.balance !== true) problems.push('lockstep-worker: without --balance, added workers would not share the shards');
  if ((s._ as string[])[0] !== 'serve') problems.push(`lockstep-serve: runs lockstep ${(s._ as string[])[0]}, not serve`);
  const dep: Deployment = { ns: String(w.ns), shards: Number(w.shards), group: String(w.group) };
  if (s.ns !== dep.ns || s.shards !== dep.shards) problems.push(`serve reads --ns ${s.ns} --shards ${s.shards}, the workers write --ns ${dep.ns} --shards ${dep.shards}`);
  // the probes reach the servers only if they listen beyond loopback, on the probed port
  const ports = (d: Record<string, any>) => new Map<string, number>((container(d).ports ?? []).map((p: any) => [p.name, p.containerPort]));
  const probePorts = (d: Record<string, any>) => ['startupProbe', 'livenessProbe', 'readinessProbe'].flatMap((p) => (container(d)[p]?.httpGet ? [container(d)[p].httpGet.port] : []));
  for (const [d, host, port] of [[worker, w.metricsHost, w.metricsPort], [serve, s.host, s.port]] as const) {
    if (host !== '0.0.0.0') problems.push(`${d.metadata.name}: listens on ${String(host)}, unreachable for the kubelet's probes`);
    for (const p of probePorts(d)) {
      const n = typeof p === 'number' ? p : ports(d).get(p);
      if (n !== port) problems.push(`${d.metadata.name}: a probe reaches port ${String(p)} (${n}), the server listens on ${String(port)}`);
    }
  }

  // the Service routes to serve's pods and port
  const labels = serve.spec.template.metadata.labels ?? {};
  if (Object.entries(svc.spec.selector ?? {}).some(([k, v]) => labels[k] !== v)) problems.push('Service lockstep-serve: its selector does not match the serve pods');
  for (const p of svc.spec.ports) if (typeof p.targetPort === 'string' && !ports(serve).has(p.targetPort)) problems.push(`Service lockstep-serve: targetPort ${p.targetPort} is not a port of the serve container`);

  // KEDA: target, bounds, one trigger per shard stream in the workers' group, all in the formula
  if (so.spec.scaleTargetRef.name !== worker.metadata.name || (so.spec.scaleTargetRef.kind ?? 'Deployment') !== 'Deployment') problems.push(`ScaledObject: scales ${so.spec.scaleTargetRef.kind} ${so.spec.scaleTargetRef.name}, not Deployment ${worker.metadata.name}`);
  if (!(so.spec.maxReplicaCount <= dep.shards)) problems.push(`ScaledObject: maxReplicaCount ${so.spec.maxReplicaCount} is above the ${dep.shards} shards (a worker beyond them holds none)`);
  if (!(so.spec.minReplicaCount >= 1)) problems.push(`ScaledObject: minReplicaCount ${so.spec.minReplicaCount}: with no worker, a null lag (read as -1 or 0) would never bring one back`);
  const triggers: any[] = so.spec.triggers;
  const want = Array.from({ length: dep.shards }, (_, i) => streamName(dep, i));
  const got = triggers.map((t) => t.metadata?.stream);
  if (JSON.stringify([...got].sort()) !== JSON.stringify([...want].sort())) problems.push(`ScaledObject: triggers on ${got.join(', ')}; the input streams are ${want.join(', ')}`);
  for (const t of triggers) {
    const at = `ScaledObject trigger ${t.name ?? t.metadata?.stream}`;
    if (t.type !== 'redis-streams') problems.push(`${at}: type ${t.type}, not redis-streams`);
    if (t.metadata?.consumerGroup !== dep.group) problems.push(`${at}: consumerGroup ${t.metadata?.consumerGroup}, the workers read as ${dep.group}`);
    if (!(Number(t.metadata?.lagCount) > 0)) problems.push(`${at}: no lagCount, so KEDA would read pendingEntriesCount (entries nobody has read yet do not count)`);
    if (t.authenticationRef?.name !== auth.metadata.name) problems.push(`${at}: authenticationRef ${t.authenticationRef?.name}, not ${auth.metadata.name}`);
  }
  const formula: string = so.spec.advanced?.scalingModifiers?.formula ?? '';
  const wantFormula = triggers.map((t) => `max(${t.name}, 0.0)`).join(' + ');
  if (formula !== wantFormula) problems.push(`ScaledObject: formula "${formula}", expected the sum of every trigger's lag, "${wantFormula}"`);
  for (const ref of auth.spec.secretTargetRef ?? []) if (secrets[ref.name]?.[ref.key] === undefined) problems.push(`TriggerAuthentication: Secret ${ref.name} has no key ${ref.key}`);
  return { problems, deployment: dep };
}
