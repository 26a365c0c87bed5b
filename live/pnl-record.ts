/**
 * The desk's served records as Redis fields: the hashes `<ns>:pnl`, `<ns>:risk`, `<ns>:positions`
 * (the latest) and each entry of the stream `<ns>:pnl:log` (the 1-second series) hold
 *
 *   t      the sample time, epoch ns (decimal)
 *   data   the record as JSON (numbers as shortest round-trip decimals: exact float64)
 *   at     wall-clock ms when it was written (metadata; not part of the record)
 *
 * written by `lockstep desk` (trading/desk-live.ts) and read by `/v1/pnl`, `/v1/risk`,
 * `/v1/positions` (http-api.ts) and the client (client.ts).
 */

/** A served desk record: its sample time, the record, and when it was written. */
export interface DeskRecord {
  t: bigint;
  data: Record<string, unknown>;
  at: number;
}

/** The fields as a flat [name, value, ...] list for HSET / XADD. */
export function encodeDeskFields(t: bigint, data: unknown, atMs: number): string[] {
  return ['t', t.toString(), 'data', JSON.stringify(data), 'at', String(atMs)];
}

/** A record from a hash's HGETALL reply or a stream entry's fields (object form); null when absent or unreadable. */
export function decodeDeskFields(h: Record<string, string> | null | undefined): DeskRecord | null {
  if (!h || h.t === undefined || h.data === undefined || !/^\d{1,20}$/.test(h.t)) return null;
  try {
    const data = JSON.parse(h.data) as unknown;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
    return { t: BigInt(h.t), data: data as Record<string, unknown>, at: Number(h.at ?? 0) };
  } catch {
    return null;
  }
}
