/**
 * The gather step of `historicalFeatures`: each matched entity gets the feature values of its
 * factor row. Entities are bucketed by the row group of their match; each row group with any is
 * decoded once (feature columns only) and its values scattered into the output, one float64 array
 * and one validity byte per entity and feature. Decompressing the pages is most of the join's
 * time, so for a Parquet file the row groups are shared among worker threads
 * (research/gather-worker.mjs, which reads plain float64 pages itself and leaves the rest to
 * parquet-wasm) writing into the same SharedArrayBuffers: each entity belongs to one group, so no
 * two threads write the same cell.
 */
import { availableParallelism } from 'node:os';
import { UserError } from '../core/errors.ts';
import { Worker } from 'node:worker_threads';
import { column, readFloats, type ColumnarSource } from './columnar-source.ts';

/** Where each entity's cells go: `values[j * n + i]`, `valid[j * n + i]` for feature j, entity i. */
export interface GatherPlan {
  n: number;
  features: string[];
  groupStart: number[];
  /** Entity indices by the row group of their match: group g's are byGroup[count[g] .. count[g + 1]). */
  byGroup: Int32Array;
  count: Int32Array;
  match: Int32Array;
}

/** Buckets matched entities by row group (a counting sort; unmatched ones are left out). */
export function planGather(match: Int32Array, groupStart: number[], features: string[]): GatherPlan {
  const n = match.length;
  const groups = groupStart.length - 1;
  const groupOf = new Int32Array(n);
  const count = new Int32Array(groups + 1);
  let g = 0;
  for (let i = 0; i < n; i++) {
    const m = match[i];
    if (m < 0) {
      groupOf[i] = -1;
      continue;
    }
    // most lookups land in the group of the previous one (entities are often in time order)
    if (m < groupStart[g] || m >= groupStart[g + 1]) g = upperBound(groupStart, m) - 1;
    groupOf[i] = g;
    count[g + 1]++;
  }
  for (let k = 0; k < groups; k++) count[k + 1] += count[k];
  const byGroup = new Int32Array(count[groups]);
  const next = count.slice(0, groups);
  for (let i = 0; i < n; i++) if (groupOf[i] >= 0) byGroup[next[groupOf[i]]++] = i;
  return { n, features, groupStart, byGroup, count, match };
}

/** Decodes the listed row groups of `src` and scatters their values into `values`/`valid`. */
export async function gatherGroups(src: ColumnarSource, plan: GatherPlan, groups: readonly number[], values: Float64Array, valid: Uint8Array): Promise<void> {
  const { n, features, groupStart, byGroup, count, match } = plan;
  const maxRows = Math.max(0, ...src.groupRows);
  const scratch = new Float64Array(maxRows);
  const ok = new Uint8Array(maxRows);
  for (const grp of groups) {
    if (count[grp] === count[grp + 1]) continue;
    const t = await src.read(grp, features);
    const base = groupStart[grp];
    for (let j = 0; j < features.length; j++) {
      readFloats(column(t, features[j], src), scratch, ok, 0, src, features[j]);
      const off = j * n;
      for (let k = count[grp]; k < count[grp + 1]; k++) {
        const i = byGroup[k];
        const r = match[i] - base;
        if (ok[r] !== 0) {
          values[off + i] = scratch[r];
          valid[off + i] = 1;
        }
      }
    }
  }
}

/** Threads for a Parquet file's gather: up to 2 (this machine's cores), none for a small table. */
export function gatherThreads(src: ColumnarSource, requested: number | undefined): number {
  if (requested !== undefined) return Math.max(0, Math.floor(requested));
  if (!src.path || src.groupRows.length < 4 || src.numRows < 1_000_000) return 0;
  return Math.min(2, availableParallelism());
}

/**
 * Runs the gather: in this thread (`threads` 0, or a table in memory), or on worker threads that
 * each open the file and take every threads-th row group with matches.
 */
export async function gather(src: ColumnarSource, plan: GatherPlan, threads: number): Promise<{ values: Float64Array; valid: Uint8Array }> {
  const cells = plan.n * plan.features.length;
  const groups = [...Array(plan.groupStart.length - 1).keys()].filter((g) => plan.count[g] < plan.count[g + 1]);
  if (threads === 0 || !src.path || groups.length < 2) {
    const values = new Float64Array(cells);
    const valid = new Uint8Array(cells);
    await gatherGroups(src, plan, groups, values, valid);
    return { values, valid };
  }
  const values = new Float64Array(new SharedArrayBuffer(cells * 8));
  const valid = new Uint8Array(new SharedArrayBuffer(cells));
  const k = Math.min(threads, groups.length);
  await Promise.all(
    Array.from({ length: k }, (_, w) => {
      const mine = groups.filter((_, x) => x % k === w);
      const worker = new Worker(new URL('./gather-worker.mjs', import.meta.url), { workerData: { path: src.path, plan, groups: mine, values, valid } });
      return new Promise<void>((resolve, reject) => {
        worker.once('message', (m: { error?: string; user?: boolean }) => {
          void worker.terminate();
          if (m.error === undefined) resolve();
          else reject(new GatherError(m.error));
        });
        worker.once('error', reject);
      });
    }),
  );
  return { values, valid };
}

/**
 * What a gather thread met: a file that became unreadable, or a feature column it cannot widen to
 * float64 (the thread's message, naming the file). The columns were checked before the threads
 * started, so this is the user's file at fault.
 */
export class GatherError extends UserError {}

/** The first index whose value is > x (`a` ascending). */
function upperBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
