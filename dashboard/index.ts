/**
 * The live dashboard of `lockstep serve --dashboard` (server.ts: routes; hub.ts: the event stream;
 * auth.ts: operator token and CSRF; page.ts and client-js.ts: what the browser gets).
 */
import type { FeatureSource } from '../live/row-reader.ts';
import type { KeyLayout } from '../live/keys.ts';
import { openRedis, type RedisClient } from '../live/redis-connect.ts';
import { UsageError } from '../core/errors.ts';
import { readOperatorToken } from './auth.ts';
import { createDashboard, readCertificate, type Dashboard } from './server.ts';

export { createDashboard, readCertificate, type Dashboard, type DashboardOptions } from './server.ts';
export { readOperatorToken } from './auth.ts';

export interface StartDashboardArgs {
  redis: string;
  keys: KeyLayout;
  maxAgeMs: number;
  operatorTokenFile?: string;
  operatorRedis?: string;
  symbols?: string[];
  parityCertificate?: string;
}

/**
 * Checks the flags (one line naming the bad one), opens the dashboard's connections (the reader's
 * user again for SCAN and XINFO; the operator's for kill switch writes) and builds the dashboard.
 * The returned `close` also closes those connections.
 */
export async function startDashboard(reader: FeatureSource, a: StartDashboardArgs): Promise<Dashboard> {
  const token = a.operatorTokenFile === undefined ? null : readOperatorToken(a.operatorTokenFile);
  if (a.operatorRedis !== undefined && token === null) throw new UsageError('--operator-redis needs --operator-token-file: without an operator token nobody may use it');
  if (a.parityCertificate) readCertificate(a.parityCertificate);
  const opened: RedisClient[] = [];
  try {
    const inspector = await openRedis(a.redis, { name: 'lockstep-dashboard', commandTimeoutMs: 2000 });
    opened.push(inspector);
    const operator = a.operatorRedis === undefined ? null : await openRedis(a.operatorRedis, { name: 'lockstep-dashboard-operator', commandTimeoutMs: 2000 });
    if (operator) opened.push(operator);
    const d = createDashboard(reader, { keys: a.keys, maxAgeMs: a.maxAgeMs, operatorToken: token, operatorRedis: operator, inspector, symbols: a.symbols, parityCertificate: a.parityCertificate ?? null });
    return {
      handle: d.handle,
      close() {
        d.close();
        for (const r of opened) r.disconnect();
      },
    };
  } catch (e) {
    for (const r of opened) r.disconnect();
    throw e;
  }
}
