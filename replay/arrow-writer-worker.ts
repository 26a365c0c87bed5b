/**
 * Worker side of an Arrow IPC output (ParquetStreamWriter with `format: 'arrow'`): same messages
 * as parquet-writer-worker.ts ({type:'batch', columns, n} → {type:'ack'}; {type:'close'} →
 * {type:'closed', bytes, sha256} or {type:'error', message}), so the replay's main thread only
 * hands over typed arrays and laying out (and optionally compressing) the batches runs on another core.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ArrowIpcFileWriter, type ArrowCompression } from './arrow-ipc-writer.ts';
import type { ColumnData, ColumnSpec } from './parquet-io.ts';
import { Rebatcher } from './rebatch.ts';

interface Init {
  path: string;
  specs: ColumnSpec[];
  metadata?: Record<string, unknown>;
  arrowCompression?: ArrowCompression;
  /** Rows per record batch (the last one shorter): fixed, so the bytes do not depend on how the sink cut its batches. */
  rowGroupSize?: number;
}

const init = workerData.init as Init;
const port = parentPort!;
// the same one key as the Parquet output's key-value metadata (parquet-io.ts metadataMap)
const meta = init.metadata ? new Map([['lockstep', JSON.stringify(init.metadata)]]) : null;
let writer: ArrowIpcFileWriter | null = null;
const rebatch = new Rebatcher(init.rowGroupSize ?? 65536);

port.on('message', (m: { type: 'batch'; columns: Record<string, ColumnData>; n: number } | { type: 'close' }) => {
  try {
    writer ??= new ArrowIpcFileWriter(init.path, init.specs, meta, init.arrowCompression ?? 'none');
    if (m.type === 'batch') {
      // a zero-row batch only asks for the schema (ParquetStreamWriter.close of an empty table)
      rebatch.push(m.columns, m.n);
      for (let b = rebatch.take(); b !== null; b = rebatch.take()) writer.write(b.columns, b.n);
      port.postMessage({ type: 'ack' });
      return;
    }
    for (let b = rebatch.take(true); b !== null; b = rebatch.take(true)) writer.write(b.columns, b.n);
    const { bytes, sha256 } = writer.close();
    port.postMessage({ type: 'closed', bytes, sha256 });
  } catch (e) {
    writer?.abandon();
    port.postMessage({ type: 'error', message: (e as Error).message ?? String(e) });
  }
});
