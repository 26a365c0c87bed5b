/**
 * What `lockstep models register | deploy | promote | rollback | status` do, on a registry folder.
 * Each change is checked against the log it joins (deployment.ts logProblem) before it is written,
 * and written by one function (`writeDeployment`), the place where a Redis-side log would plug in.
 * Every refusal is a UserError naming the file, field or value: the CLI prints it as one line.
 */
import { join } from 'node:path';
import { UsageError } from '../core/errors.ts';
import type { AnyFactor } from '../core/factor.ts';
import { createFactorSet, type SessionTable } from '../core/fold.ts';
import { featureSetVersion } from '../core/registry.ts';
import { isoNs } from '../replay/time-format.ts';
import { assignmentAt, logProblem, type Assignment, type DeployMode, type DeploymentEntry } from './deployment.ts';
import { ModelError } from './errors.ts';
import { evaluatorOf, loadModelStages } from './load.ts';
import { appendDeployment, listRegistry, readDeploymentLog, readModelFile, registerVersion } from './registry.ts';
import { slotColumns } from './stage.ts';

/** The feature set a registry's models are checked against: factors and the catalog's sessions. */
export interface FeatureSetRef {
  factors: readonly AnyFactor[];
  sessions?: SessionTable;
}

export interface RegisterResult {
  name: string;
  version: number;
  hash: string;
  existed: boolean;
  /** The feature-set version the model says it was trained on (null: it does not say). */
  trainedOn: string | null;
  /** The current feature set's version (factors only). */
  current: string;
  forced: boolean;
}

/**
 * Registers a model file: it must parse and load (its kind's evaluator), read only columns of the
 * feature set (factor columns, or the signal columns of the registry's other models), and have been
 * trained on the current feature set (`trained_on.feature_set`), unless `force`.
 */
export function registerModel(registry: string, file: string, fs: FeatureSetRef, force = false): RegisterResult {
  const { spec, graph } = readModelFile(file);
  const factorColumns = createFactorSet(fs.factors, { sessions: fs.sessions }).columns;
  const reg = listRegistry(registry);
  const others = [...reg].filter(([name]) => name !== spec.name);
  const columns = [...factorColumns, ...others.flatMap(([name, vs]) => slotColumns(name, vs[0].spec.outputs))];
  const unknown = spec.inputs.filter((c) => !columns.includes(c));
  if (unknown.length > 0) throw new ModelError(file, `field inputs: ${unknown.join(', ')} ${unknown.length > 1 ? 'are not columns' : 'is not a column'} of the feature set (see lockstep factors list)`);
  // proves the kind loads (an onnx graph opens) before anything is written
  const ev = evaluatorOf({ spec, graph, dir: file, hash: '' });
  if (ev.inputCount !== spec.inputs.length) throw new ModelError(file, `the model takes ${ev.inputCount} inputs but field inputs lists ${spec.inputs.length}`);
  const current = featureSetVersion(fs.factors, fs.sessions);
  // a model may also have been trained on a set that carried the registry's signals (--registry)
  const accepted = new Set([current]);
  if (reg.size > 0) {
    const loaded = loadModelStages(registry, factorColumns);
    accepted.add(featureSetVersion(fs.factors, fs.sessions, loaded.stages));
    accepted.add(featureSetVersion(fs.factors, fs.sessions, loaded.stages.filter((s) => s.slot !== spec.name)));
  }
  const raw = spec.trainedOn.feature_set;
  const trainedOn = typeof raw === 'string' ? raw : null;
  if (!force && (trainedOn === null || !accepted.has(trainedOn))) {
    const why = trainedOn === null ? 'records no trained_on.feature_set' : `was trained on feature set ${trainedOn}`;
    throw new ModelError(file, `field trained_on.feature_set: ${spec.name}@${spec.version} ${why}, the current feature set is ${current}: retrain it on a training set of this feature set, or register with --force`);
  }
  const r = registerVersion(registry, file, { feature_set_at_registration: current, ...(force && (trainedOn === null || !accepted.has(trainedOn)) ? { forced: true } : {}) });
  return { name: spec.name, version: spec.version, hash: r.hash, existed: r.existed, trainedOn, current, forced: force };
}

/** `live`, `shadow`, `canary:10%` (or `canary:10`) as a mode and share. */
export function parseMode(text: string): { mode: DeployMode; percent?: number } {
  if (text === 'live' || text === 'shadow') return { mode: text };
  const m = /^canary:(.+?)%?$/.exec(text);
  if (!m) throw new UsageError(`--mode ${JSON.stringify(text)} must be live, shadow or canary:P% (e.g. canary:10%)`);
  const p = Number(m[1]);
  if (!/^\d+(\.\d+)?$/.test(m[1]) || !(p > 0 && p <= 100)) throw new UsageError(`--mode ${text}: canary share ${m[1]} must be a percentage in (0, 100]`);
  return { mode: 'canary', percent: p };
}

/** `momo@2` as a name and version. */
export function parseRef(text: string): { name: string; version: number } {
  const m = /^([a-z][a-z0-9_]*)@(\d+)$/.exec(text);
  if (!m) throw new UsageError(`${JSON.stringify(text)} must be NAME@VERSION (e.g. momo@2)`);
  return { name: m[1], version: Number(m[2]) };
}

/** Where deployment changes go. Only the registry folder's log for now; a Redis log would add a kind. */
export type DeploymentTarget = { kind: 'registry'; registry: string };

/** Appends one checked entry to the target's log: the only place a change is written. */
export function writeDeployment(target: DeploymentTarget, e: DeploymentEntry): void {
  appendDeployment(target.registry, e);
}

/**
 * Checks `e` against the registry (a registered version, a slot that exists) and the log it joins
 * (time order, shares; a promote needs a candidate, a rollback something to roll back), then
 * writes it. Returns the slot's assignment once it applies.
 */
export function changeDeployment(registry: string, e: DeploymentEntry): Assignment {
  const reg = listRegistry(registry);
  const logFile = join(registry, 'deployments.jsonl');
  if (!reg.has(e.slot)) throw new ModelError(registry, `${e.slot} is not registered here (registered: ${[...reg.keys()].join(', ') || 'none'})`);
  if (e.action === 'deploy' && !reg.get(e.slot)!.some((v) => v.spec.version === e.version)) {
    throw new ModelError(registry, `${e.slot}@${e.version} is not registered (versions: ${reg.get(e.slot)!.map((v) => v.spec.version).join(', ')})`);
  }
  const log = readDeploymentLog(registry);
  const last = log[log.length - 1];
  if (last !== undefined && e.at < last.at) throw new ModelError(logFile, `--at ${isoNs(e.at)} is before the last change (${last.action} ${last.slot} at ${isoNs(last.at)}): changes are logged in time order`);
  const before = assignmentAt(log, e.slot, e.at);
  if (e.action === 'promote' && before.candidate === null) throw new ModelError(logFile, `${e.slot} has no candidate (shadow or canary) to promote at ${isoNs(e.at)}`);
  if (e.action === 'rollback' && before.candidate === null && before.previous.length === 0) throw new ModelError(logFile, `${e.slot} has nothing to roll back at ${isoNs(e.at)} (no candidate, no earlier incumbent)`);
  if (e.action === 'deploy' && e.mode !== 'live' && before.incumbent === null) throw new ModelError(logFile, `${e.slot} has no live version at ${isoNs(e.at)}: deploy one with --mode live before a ${e.mode}`);
  const all = [...log, e];
  const problem = logProblem(all, (slot, v) => reg.get(slot)?.some((x) => x.spec.version === v) ?? false);
  if (problem !== null) throw new ModelError(logFile, problem);
  writeDeployment({ kind: 'registry', registry }, e);
  return assignmentAt(all, e.slot, e.at);
}

/** An assignment as words: `incumbent v1, candidate v2 (canary 10%)`. */
export function describeAssignment(a: Assignment): string {
  if (a.incumbent === null && a.candidate === null) return 'not deployed';
  const inc = a.incumbent === null ? 'no incumbent' : `incumbent v${a.incumbent}`;
  if (a.candidate === null) return inc;
  return `${inc}, candidate v${a.candidate} (${a.mode === 'canary' ? `canary ${a.percent}%` : 'shadow'})`;
}

/** `models status`: each model's versions and its assignment at `at` (default: the end of the log). */
export function registryStatus(registry: string, at?: bigint): string[] {
  const reg = listRegistry(registry);
  if (reg.size === 0) return [`${registry}: no models registered`];
  const log = readDeploymentLog(registry);
  const t = at ?? (log.length > 0 ? log[log.length - 1].at : 0n);
  const out: string[] = [];
  for (const [name, versions] of reg) {
    const changes = log.filter((e) => e.slot === name);
    out.push(`${name} (${versions.length} version${versions.length > 1 ? 's' : ''}, ${changes.length} change${changes.length === 1 ? '' : 's'} logged)`);
    for (const v of versions) {
      const fs = v.spec.trainedOn.feature_set;
      out.push(`  v${v.spec.version}  ${v.spec.kind}  sha256 ${v.hash.slice(0, 12)}  trained on feature set ${typeof fs === 'string' ? fs : '(not recorded)'}`);
    }
    out.push(`  ${at === undefined ? (log.length > 0 ? `at the end of the log (${isoNs(t)})` : 'now') : `at ${isoNs(t)}`}: ${describeAssignment(assignmentAt(log, name, t))}`);
  }
  return out;
}
