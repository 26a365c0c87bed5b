/**
 * Worker-thread side of `--jobs N`: builds the parts it is sent, one at a time, and reports each
 * result (or the error's message and whether it is the user's fault) to the parent.
 */
import { parentPort } from 'node:worker_threads';
import { isUserError } from '../core/errors.ts';
import { buildPart, type PartJob } from './build-part.ts';

const port = parentPort!;
port.on('message', (m: { type: 'build'; job: PartJob } | { type: 'exit' }) => {
  if (m.type === 'exit') {
    port.close();
    return;
  }
  buildPart(m.job).then(
    (result) => port.postMessage({ type: 'done', result }),
    (e: unknown) => port.postMessage({ type: 'failed', message: e instanceof Error ? e.message : String(e), user: isUserError(e), name: e instanceof Error ? e.constructor.name : 'Error' }),
  );
});
