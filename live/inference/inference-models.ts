/**
 * What the inference endpoint serves from: the registry's versions loaded as runnable models (the
 * same `runnableModel` the fold runs, through load.ts's `evaluatorOf`), and the deployment log
 * that says which version serves whom. I/O adapters: the registry folder is re-read when a request
 * names a model or version it does not hold (registered after serve started), at most once a
 * second; the log comes through one function (`DeploymentLogSource`), the registry's
 * deployments.jsonl by default, so live mode's log can be plugged in instead.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DeploymentEntry } from '../../models/deployment.ts';
import { ModelError } from '../../models/errors.ts';
import { loadVersion } from '../../models/load.ts';
import type { RunnableModel } from '../../models/model.ts';
import { listRegistry, readDeploymentLog } from '../../models/registry.ts';
import type { ModelSpec } from '../../models/spec.ts';

/** The tensors every inference response has beside the model's outputs (one value per row). */
export const RESERVED_OUTPUTS = ['model_version', 'status'];

/** A registered version as the endpoint holds it: runnable, or why it cannot run in this build. */
export interface ServedVersion {
  spec: ModelSpec;
  model: RunnableModel | null;
  /** Why the version could not be loaded (e.g. a kind this build does not evaluate); null when loaded. */
  error: string | null;
}

/** The deployment log, in log order (read again on each call: it grows while serve runs). */
export type DeploymentLogSource = () => Promise<readonly DeploymentEntry[]>;

/** The registry's deployments.jsonl, re-read only when its size or modification time changed. */
export function registryDeploymentLog(registry: string): DeploymentLogSource {
  const file = join(registry, 'deployments.jsonl');
  let stamp = '';
  let log: readonly DeploymentEntry[] = [];
  return async () => {
    let now = 'absent';
    try {
      const st = statSync(file);
      now = `${st.size}:${st.mtimeMs}`;
    } catch {
      // no log yet: nothing deployed
    }
    if (now !== stamp) {
      log = now === 'absent' ? [] : readDeploymentLog(registry);
      stamp = now;
    }
    return log;
  };
}

export class RegistryView {
  private models = new Map<string, Map<number, ServedVersion>>();
  private loadedAt = -Infinity;

  /** Loads every registered version; a corrupt registry is a ModelError naming the file. */
  constructor(readonly registry: string) {
    // an empty registry is fine (models registered later are found), a mistyped path is not
    if (!existsSync(registry)) throw new ModelError(registry, 'no such registry folder (lockstep models register creates it)');
    this.models = RegistryView.load(registry);
    this.loadedAt = Date.now();
  }

  private static load(registry: string): Map<string, Map<number, ServedVersion>> {
    const out = new Map<string, Map<number, ServedVersion>>();
    for (const [name, versions] of listRegistry(registry)) {
      const m = new Map<number, ServedVersion>();
      for (const v of versions) {
        try {
          const clash = v.spec.outputs.find((o) => RESERVED_OUTPUTS.includes(o));
          if (clash !== undefined) throw new ModelError(join(v.dir, 'model.json'), `output ${clash} has the name of the tensor the inference endpoint adds to every response (${RESERVED_OUTPUTS.join(', ')}): rename it`);
          // the endpoint takes features from the request or from whatever the deployment computes:
          // inputs are checked against the deployment's columns per request, not here
          m.set(v.spec.version, { spec: v.spec, model: loadVersion(v, v.spec.inputs), error: null });
        } catch (e) {
          m.set(v.spec.version, { spec: v.spec, model: null, error: (e as Error).message });
        }
      }
      out.set(name, m);
    }
    return out;
  }

  /**
   * Reads the registry again when it may hold something new: at most once a second, so a client
   * asking for unknown names cannot make every request read the folder. A registry changed into
   * something unreadable keeps the versions already loaded.
   */
  refresh(): void {
    if (Date.now() - this.loadedAt < 1000) return;
    this.loadedAt = Date.now();
    try {
      this.models = RegistryView.load(this.registry);
    } catch {
      // a registration half written, or a registry edited by hand: serve what was loaded
    }
  }

  /** The versions of `name` (ascending), re-reading the registry once if it has none or lacks `version`. */
  versions(name: string, version?: number): Map<number, ServedVersion> | undefined {
    const m = this.models.get(name);
    if (m === undefined || (version !== undefined && !m.has(version))) {
      this.refresh();
      return this.models.get(name);
    }
    return m;
  }

  names(): string[] {
    return [...this.models.keys()];
  }
}
