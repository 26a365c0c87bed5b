/**
 * ioredis's ready check without its console warning. Before it reports a connection ready,
 * ioredis runs INFO to wait while the server is still loading its data set; when the ACL user may
 * not run INFO (the documented read-only user may not), it goes on without the check, which is
 * right, but prints "Skipping the ready check ..." with console.warn, to the user's terminal. This
 * replaces the check on one connection with the same logic and no warning.
 */
import type { Redis } from 'ioredis';

type ReadyCallback = (err: Error | null, info?: Record<string, string>) => void;

/** Installs the quiet ready check on `r` (a single-node or Sentinel-managed connection). */
export function quietReadyCheck(r: Redis): void {
  const check = function readyCheck(this: Redis, callback: ReadyCallback): void {
    this.info().then(
      (res) => {
        const info: Record<string, string> = {};
        for (const line of String(res).split('\r\n')) {
          const i = line.indexOf(':');
          if (i > 0 && i < line.length - 1) info[line.slice(0, i)] = line.slice(i + 1);
        }
        if (!info.loading || info.loading === '0') return callback(null, info);
        // still loading its data set: ask again when it expects to be done (at most 1 s apart)
        const wait = Math.min(1000, Number(info.loading_eta_seconds || 1) * 1000);
        setTimeout(() => check.call(this, callback), wait);
      },
      (err: Error) => (err.message?.includes('NOPERM') ? callback(null, {}) : callback(err)),
    );
  };
  (r as unknown as { _readyCheck: typeof check })._readyCheck = check;
}
