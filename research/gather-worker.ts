/**
 * Entry of a gather thread (research/gather.ts): decodes its share of a factor table's row groups
 * and writes the matched values into the shared output arrays; replies {} when done, or {error}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../core/errors.ts';
import { runGatherThread } from './gather.ts';

try {
  await runGatherThread(workerData);
  parentPort!.postMessage({});
} catch (e) {
  parentPort!.postMessage({ error: (e as Error).message ?? String(e), user: e instanceof UserError });
}
