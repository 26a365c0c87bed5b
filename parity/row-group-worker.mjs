// Worker side of prefetch-row-groups.ts: decodes Parquet row groups with parquet-wasm, for any
// number of files at once, each through a file-backed Blob (only the byte ranges of a group are
// read), and posts each group as Arrow IPC bytes (transferred, not copied). A file's next group is
// decoded only while it has credits: the reader returns one per group it takes, so at most
// `ahead` decoded groups per file wait. Jobs run in arrival order, so the files take turns.
// Plain JavaScript on purpose: a TypeScript worker must register tsx first, which costs a loader
// thread and about a second.
import { openAsBlob } from 'node:fs';
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const pq = require('parquet-wasm/node');

const { batchSize } = workerData;
/** The file being decoded, so that a wasm trap (an uncaught error) can be pinned on it. */
let current = -1;
process.on('uncaughtException', (e) => {
  parentPort.postMessage({ id: current, error: e?.message ?? String(e), fatal: true });
  process.exit(1);
});
/** id -> { file: ParquetFile promise, groups, next, closed } */
const files = new Map();
const jobs = [];
let wake = null;

parentPort.on('message', (m) => {
  if (m.type === 'open') {
    const f = { id: m.id, next: 0, groups: -1, closed: false, file: openAsBlob(m.path).then((b) => pq.ParquetFile.fromFile(b)) };
    files.set(m.id, f);
    for (let i = 0; i < m.ahead; i++) jobs.push(m.id);
  } else if (m.type === 'credit') {
    jobs.push(m.id);
  } else if (m.type === 'close') {
    const f = files.get(m.id);
    if (f) {
      f.closed = true;
      files.delete(m.id);
      f.file.then((x) => x.free(), () => {});
    }
  }
  wake?.();
});

for (;;) {
  while (jobs.length === 0) await new Promise((r) => (wake = r));
  wake = null;
  const id = jobs.shift();
  const f = files.get(id);
  if (!f || f.closed) continue;
  current = id;
  try {
    const file = await f.file;
    if (f.groups < 0) f.groups = file.metadata().numRowGroups();
    if (f.next >= f.groups) {
      parentPort.postMessage({ id, done: true });
      continue;
    }
    const group = f.next++;
    const ipc = (await file.read({ rowGroups: [group], batchSize })).intoIPCStream();
    parentPort.postMessage({ id, group, ipc }, [ipc.buffer]);
  } catch (e) {
    parentPort.postMessage({ id, error: e?.message ?? String(e) });
  }
}
