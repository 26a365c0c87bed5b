/**
 * From a registry folder to fold stages: every registered model becomes a slot (stage.ts) over its
 * versions, following the registry's deployment log. Checks that each model reads only columns the
 * feature set writes, and that the log names registered versions, with errors naming the file.
 */
import { join } from 'node:path';
import type { SymbolStage } from '../core/stage.ts';
import type { DeploymentEntry } from './deployment.ts';
import { logProblem } from './deployment.ts';
import { ModelError } from './errors.ts';
import type { ModelEvaluator } from './evaluator.ts';
import { linearEvaluator } from './linear.ts';
import { loadOnnxEvaluator } from './onnx.ts';
import { runnableModel, type RunnableModel } from './model.ts';
import { listRegistry, readDeploymentLog, type RegisteredVersion } from './registry.ts';
import { createSlotStage, type SlotOptions, type SlotStage } from './stage.ts';

/** The evaluator of a registered version (linear, logistic or onnx). */
export function evaluatorOf(v: RegisteredVersion): ModelEvaluator {
  if (v.spec.kind !== 'onnx') return linearEvaluator(v.spec);
  const onnx = v.spec.onnx!;
  return loadOnnxEvaluator(v.graph!, { file: join(v.dir, 'graph.onnx'), inputName: onnx.input, outputs: onnx.outputs, inputCount: v.spec.inputs.length });
}

/** A registered version ready to run, its inputs checked against the feature set's columns. */
export function loadVersion(v: RegisteredVersion, columns: readonly string[]): RunnableModel {
  const file = join(v.dir, 'model.json');
  const missing = v.spec.inputs.filter((c) => !columns.includes(c));
  if (missing.length > 0) throw new ModelError(file, `input ${missing.join(', ')} is not a column of the feature set (see lockstep factors list)`);
  const ev = evaluatorOf(v);
  if (ev.inputCount !== v.spec.inputs.length) throw new ModelError(file, `the model takes ${ev.inputCount} inputs but the file lists ${v.spec.inputs.length}`);
  return runnableModel(v.spec, ev);
}

export interface LoadedModels {
  stages: SlotStage[];
  log: DeploymentEntry[];
  /** name@version → content hash, for lineage. */
  hashes: Record<string, string>;
}

/**
 * Every model of the registry as a slot stage, over the factor columns `columns`, with the
 * registry's deployment log (or `log` when given: live mode's, read from Redis). `opts.wrap`: live
 * mode's measuring wrapper of each version (stage.ts `SlotOptions`).
 */
export function loadModelStages(registry: string, columns: readonly string[], log?: readonly DeploymentEntry[], opts: SlotOptions = {}): LoadedModels {
  const reg = listRegistry(registry);
  const entries = [...(log ?? readDeploymentLog(registry))];
  const problem = logProblem(entries, (slot, version) => reg.get(slot)?.some((v) => v.spec.version === version) ?? false);
  if (problem !== null) throw new ModelError(join(registry, 'deployments.jsonl'), problem);
  const stages: SlotStage[] = [];
  const hashes: Record<string, string> = {};
  const cols = [...columns];
  for (const [name, versions] of reg) {
    const stage = createSlotStage(name, versions.map((v) => loadVersion(v, cols)), entries, opts);
    for (const v of versions) hashes[`${name}@${v.spec.version}`] = v.hash;
    stages.push(stage);
    cols.push(...stage.columns);
  }
  return { stages, log: entries, hashes };
}

/** The stages as the fold takes them (core/stage.ts). */
export function asStages(m: LoadedModels): SymbolStage[] {
  return m.stages as SymbolStage[];
}
