/**
 * The Kubernetes manifests in deploy/ against the real schemas (Kubernetes 1.35 OpenAPI, KEDA's
 * CRDs; offline, committed under deploy/schemas/), the real CLI definitions and the real key
 * layout. Each check is also shown to fail on a broken copy, so a pass means something.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { inputStream } from '../live/keys.ts';
import { WORKER_DEFAULTS } from '../live/worker/defaults.ts';
import { crossCheck, DEPLOY_DIR, loadManifests, parseLockstepArgs, SchemaValidator, type Manifest } from './manifests.ts';

const stream = (d: { ns: string; shards: number }, s: number) => inputStream(d, s);
let validator: SchemaValidator;
let manifests: Manifest[];
const clone = <T>(x: T): T => structuredClone(x);
const byKind = (kind: string, name?: string) => manifests.find((m) => m.doc.kind === kind && (name === undefined || m.doc.metadata.name === name))!.doc;
/** The manifests with one object replaced by `edit` of a copy of it. */
const edited = (kind: string, name: string | undefined, edit: (d: Record<string, any>) => void): Manifest[] =>
  manifests.map((m) => {
    if (m.doc.kind !== kind || (name !== undefined && m.doc.metadata.name !== name)) return m;
    const doc = clone(m.doc);
    edit(doc);
    return { ...m, doc };
  });

beforeAll(() => {
  validator = new SchemaValidator();
  manifests = loadManifests();
});

describe('deploy/ manifests', () => {
  it('holds the objects the README lists, and kustomization.yaml applies all but the example Secret', () => {
    const kinds = manifests.map((m) => `${m.file}: ${m.doc.kind} ${m.doc.metadata?.name ?? ''}`.trim());
    expect(kinds).toEqual([
      'keda-scaledobject.yaml: ScaledObject lockstep-worker',
      'keda-triggerauthentication.yaml: TriggerAuthentication lockstep-redis',
      'kustomization.yaml: Kustomization',
      'secret.example.yaml: Secret lockstep-redis',
      'serve-deployment.yaml: Deployment lockstep-serve',
      'serve-service.yaml: Service lockstep-serve',
      'worker-deployment.yaml: Deployment lockstep-worker',
    ]);
    const k = byKind('Kustomization');
    const files = [...new Set(manifests.map((m) => m.file))].filter((f) => f !== 'kustomization.yaml' && f !== 'secret.example.yaml');
    expect([...k.resources].sort()).toEqual(files.sort());
    // namespace-agnostic: nothing pins a namespace (kustomize or kubectl -n sets it)
    expect(manifests.filter((m) => m.doc.metadata?.namespace !== undefined)).toEqual([]);
  });

  it('every object conforms to its schema: Kubernetes 1.35 (Deployment, Service, Secret) and KEDA (ScaledObject, TriggerAuthentication)', () => {
    expect(validator.kinds()).toEqual(expect.arrayContaining(['apps/v1/Deployment', 'v1/Service', 'v1/Secret', 'keda.sh/v1alpha1/ScaledObject', 'keda.sh/v1alpha1/TriggerAuthentication']));
    for (const m of manifests.filter((m) => m.doc.kind !== 'Kustomization')) expect(validator.validate(m.doc), `${m.file}`).toEqual([]);
  });

  it('rejects broken objects: an unknown field, a wrong type, a missing required field, a value out of range, an unknown kind', () => {
    const worker = clone(byKind('Deployment', 'lockstep-worker'));
    worker.spec.template.spec.containers[0].livenessProbes = worker.spec.template.spec.containers[0].livenessProbe;
    expect(validator.validate(worker)).toContain('/spec/template/spec/containers/0 must NOT have additional properties: livenessProbes');
    const typed = clone(byKind('Deployment', 'lockstep-worker'));
    typed.spec.replicas = 'two';
    expect(validator.validate(typed)).toContain('/spec/replicas must be integer');
    const noImage = clone(byKind('Deployment', 'lockstep-serve'));
    delete noImage.spec.template.spec.containers[0].name;
    expect(validator.validate(noImage)).toContain("/spec/template/spec/containers/0 must have required property 'name'");
    const so = clone(byKind('ScaledObject'));
    delete so.spec.triggers[0].type;
    so.spec.minReplicaCount = -1;
    so.spec.advanced.scalingModifiers.metricType = 'Utilization';
    expect(validator.validate(so)).toEqual(
      expect.arrayContaining(["/spec/triggers/0 must have required property 'type'", '/spec/minReplicaCount must be >= 0', '/spec/advanced/scalingModifiers/metricType must be equal to one of the allowed values']),
    );
    const auth = clone(byKind('TriggerAuthentication'));
    auth.spec.secretTargetRef[0].secret = auth.spec.secretTargetRef[0].name;
    delete auth.spec.secretTargetRef[0].name;
    expect(validator.validate(auth)).toEqual(expect.arrayContaining(["/spec/secretTargetRef/0 must have required property 'name'"]));
    const svc = clone(byKind('Service'));
    svc.metadata.lables = svc.metadata.labels;
    expect(validator.validate(svc)).toContain('/metadata/ must NOT have additional properties: lables');
    expect(validator.validate({ apiVersion: 'keda.sh/v1', kind: 'ScaledObject' })).toEqual(['no schema for keda.sh/v1/ScaledObject']);
  });

  it("the command lines are valid `lockstep` invocations, and the ScaledObject watches the code's streams and consumer group", async () => {
    const { problems, deployment } = await crossCheck(manifests, stream);
    expect(problems).toEqual([]);
    expect(deployment).toEqual({ ns: 'ls', shards: 4, group: WORKER_DEFAULTS.group });
    expect(byKind('ScaledObject').spec.triggers.map((t: any) => t.metadata.stream)).toEqual(['ls:in:{ls:0}', 'ls:in:{ls:1}', 'ls:in:{ls:2}', 'ls:in:{ls:3}']);
  });

  it('the cross-checks catch a flag lockstep does not know, a stream or group the workers do not use, too many replicas, a broken reference', async () => {
    const problems = async (ms: Manifest[]) => (await crossCheck(ms, stream)).problems;
    const typo = edited('Deployment', 'lockstep-worker', (d) => d.spec.template.spec.containers[0].args.push('--lease-msec=1000'));
    expect((await problems(typo)).join('\n')).toMatch(/lockstep-worker: Unknown arguments?: lease-msec/);
    const badValue = edited('Deployment', 'lockstep-worker', (d) => (d.spec.template.spec.containers[0].args = d.spec.template.spec.containers[0].args.map((a: string) => (a === '--shards=4' ? '--shards=four' : a))));
    expect((await problems(badValue)).join('\n')).toMatch(/lockstep-worker: --shards must be a whole number >= 1/);
    const undefinedVar = edited('Deployment', 'lockstep-serve', (d) => (d.spec.template.spec.containers[0].env = []));
    await expect(problems(undefinedVar)).rejects.toThrow('serve: $(LOCKSTEP_REDIS_URL) is not defined in its env');
    const wrongStream = edited('ScaledObject', undefined, (d) => (d.spec.triggers[3].metadata.stream = 'ls:in:3'));
    expect(await problems(wrongStream)).toEqual(['ScaledObject: triggers on ls:in:{ls:0}, ls:in:{ls:1}, ls:in:{ls:2}, ls:in:3; the input streams are ls:in:{ls:0}, ls:in:{ls:1}, ls:in:{ls:2}, ls:in:{ls:3}']);
    const wrongGroup = edited('ScaledObject', undefined, (d) => (d.spec.triggers[0].metadata.consumerGroup = 'workers'));
    expect(await problems(wrongGroup)).toEqual(['ScaledObject trigger shard0: consumerGroup workers, the workers read as lockstep']);
    const tooMany = edited('ScaledObject', undefined, (d) => {
      d.spec.maxReplicaCount = 8;
      d.spec.minReplicaCount = 0;
      d.spec.advanced.scalingModifiers.formula = 'shard0 + shard1 + shard2 + shard3';
    });
    expect(await problems(tooMany)).toEqual([
      'ScaledObject: maxReplicaCount 8 is above the 4 shards (a worker beyond them holds none)',
      'ScaledObject: minReplicaCount 0: with no worker, a null lag (read as -1 or 0) would never bring one back',
      'ScaledObject: formula "shard0 + shard1 + shard2 + shard3", expected the sum of every trigger\'s lag, "max(shard0, 0.0) + max(shard1, 0.0) + max(shard2, 0.0) + max(shard3, 0.0)"',
    ]);
    const pending = edited('ScaledObject', undefined, (d) => delete d.spec.triggers[1].metadata.lagCount);
    expect((await problems(pending))[0]).toMatch(/trigger shard1: no lagCount, so KEDA would read pendingEntriesCount/);
    const loopback = edited('Deployment', 'lockstep-worker', (d) => (d.spec.template.spec.containers[0].args = d.spec.template.spec.containers[0].args.filter((a: string) => !a.startsWith('--metrics-host'))));
    expect(await problems(loopback)).toEqual(["lockstep-worker: listens on 127.0.0.1, unreachable for the kubelet's probes"]);
    const shards = edited('Deployment', 'lockstep-serve', (d) => (d.spec.template.spec.containers[0].args = d.spec.template.spec.containers[0].args.map((a: string) => (a === '--shards=4' ? '--shards=8' : a))));
    expect(await problems(shards)).toEqual(['serve reads --ns ls --shards 8, the workers write --ns ls --shards 4']);
    const secretKey = edited('TriggerAuthentication', undefined, (d) => (d.spec.secretTargetRef[2].key = 'password'));
    expect(await problems(secretKey)).toEqual(['TriggerAuthentication: Secret lockstep-redis has no key password']);
  });

  it('parses a command line as `lockstep` does (and refuses one it would refuse)', async () => {
    const a = await parseLockstepArgs(['live', '--shards', '4', '--balance']);
    expect([a.shards, a.balance, a.group, a.leaseMs]).toEqual([4, true, 'lockstep', WORKER_DEFAULTS.leaseMs]);
    await expect(parseLockstepArgs(['live', '--balance'])).rejects.toThrow(/Missing required argument: shards/);
    await expect(parseLockstepArgs(['live', '--shards', '4', '--balance', '--owned', '1'])).rejects.toThrow(/mutually exclusive/);
  });

  it('the README documents the ACL lines of the example Secret verbatim', () => {
    const readme = readFileSync(join(DEPLOY_DIR, 'README.md'), 'utf8');
    const secret = readFileSync(join(DEPLOY_DIR, 'secret.example.yaml'), 'utf8');
    const acl = [...secret.matchAll(/\((ACL SETUSER [^)]*)\)/g)].map((m) => m[1]);
    expect(acl).toHaveLength(3);
    for (const line of acl) expect(readme).toContain(line);
    expect(parse(secret).stringData['keda-username']).toBe('keda');
  });
});
