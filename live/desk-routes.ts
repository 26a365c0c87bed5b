/**
 * The desk's HTTP endpoints (served by http-api.ts): `GET /v1/pnl`, `/v1/risk`, `/v1/positions`
 * answer the latest record `lockstep desk` wrote (`<ns>:pnl`, `<ns>:risk`, `<ns>:positions`; one
 * HGETALL each) as `{ t, time, computed_at_ms, ...record }`; 404 before the first, 503 when Redis fails.
 */
import { isoNs } from '../replay/time-format.ts';
import { getDesk, type DeskView } from './client.ts';
import type { FeatureSource } from './row-reader.ts';

/** The paths answered here. */
export const DESK_PATHS: readonly string[] = ['/v1/pnl', '/v1/risk', '/v1/positions'];

/** The answer to `GET path` (one of DESK_PATHS). */
export async function deskRoute(redis: FeatureSource, keys: { ns: string }, path: string): Promise<{ code: number; body: unknown }> {
  const view = path.slice('/v1/'.length) as DeskView;
  try {
    const rec = await getDesk(redis, keys, view);
    if (rec === null) return { code: 404, body: { error: `no ${view} yet in ${keys.ns}:${view}: run lockstep desk --redis ... --ns ${keys.ns} --instruments instruments.json` } };
    return { code: 200, body: { t: rec.t.toString(), time: isoNs(rec.t), computed_at_ms: rec.at, ...rec.data } };
  } catch (e) {
    return { code: 503, body: { error: `redis: ${(e as Error).message}` } };
  }
}
