/**
 * The one path from a registry folder to what a run needs: the model stages over a feature set's
 * columns, and what lineage records of them. Replay, training sets and `models register` all come
 * through here, so a signal column means the same thing in each of them.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SymbolStage } from '../core/stage.ts';
import type { ModelsLineage } from '../replay/lineage.ts';
import { ModelError } from './errors.ts';
import { asStages, loadModelStages } from './load.ts';

export interface ModelStages {
  stages: SymbolStage[];
  /** Columns the stages add, in order (after the factor columns). */
  columns: string[];
  /** `name@version` → hash, and the sha256 of the deployment log's bytes (of '' when there is none). */
  lineage: ModelsLineage;
}

/**
 * The registry's models as fold stages over `columns` (the factor set's columns), with their
 * lineage. A registry path that is not a folder is a ModelError naming it; a registry with no
 * models gives no stages (and the feature-set version stays the factors' own).
 */
export function modelStagesFor(registry: string, columns: readonly string[]): ModelStages {
  if (!existsSync(registry) || !statSync(registry).isDirectory()) throw new ModelError(registry, '--registry must be a model registry folder (made by lockstep models register)');
  const loaded = loadModelStages(registry, columns);
  const logFile = join(registry, 'deployments.jsonl');
  const bytes = existsSync(logFile) ? readFileSync(logFile) : Buffer.alloc(0);
  return {
    stages: asStages(loaded),
    columns: loaded.stages.flatMap((s) => [...s.columns]),
    lineage: { models: loaded.hashes, deploymentLog: createHash('sha256').update(bytes).digest('hex'), deployments: loaded.log.length },
  };
}
