/**
 * Who may change what from the dashboard. Every page is read-only for a viewer; an operator
 * (whoever presents the token in `--operator-token-file`) may switch the kill switch. A change is a
 * POST that must carry:
 *   - an Origin equal to the dashboard's own (a page of another site cannot post here), and
 *   - the session's CSRF token in `x-csrf-token`, the session being named by a cookie that is
 *     HttpOnly and SameSite=Strict (another site's request carries no cookie, and cannot read the
 *     token from the page);
 * and the session must have signed in with the operator token (compared in constant time) or the
 * request must carry it as `authorization: Bearer TOKEN` (a script; no cookie involved).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { UsageError, UserError } from '../core/errors.ts';

export interface Session {
  id: string;
  csrf: string;
  operator: boolean;
}

/** A refusal: the HTTP status and one line saying why (shown on the page as is); the request's fault. */
export class Refusal extends UserError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const COOKIE = 'ls_dash';
const MAX_SESSIONS = 10_000;
/** Printable ASCII without spaces, at most 256 bytes: anything else is a malformed token. */
const TOKEN_RE = /^[\x21-\x7e]{1,256}$/;

/** The operator token in `file` (trimmed); one line naming the file when it is unusable. */
export function readOperatorToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--operator-token-file ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const token = text.trim();
  if (!TOKEN_RE.test(token) || token.length < 16) throw new UsageError(`--operator-token-file ${file}: the token must be 16 to 256 printable characters without spaces`);
  return token;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The dashboard's sessions and checks (see the module comment). */
export class Auth {
  private readonly sessions = new Map<string, Session>();
  private readonly tokenDigest: Buffer | null;

  constructor(token: string | null) {
    this.tokenDigest = token === null ? null : digest(token);
  }

  get operatorEnabled(): boolean {
    return this.tokenDigest !== null;
  }

  /** The request's session, or a new one (then `setCookie` is the header to send). */
  session(req: IncomingMessage): { session: Session; setCookie: string | null } {
    const id = cookieOf(req, COOKIE);
    const known = id === null ? undefined : this.sessions.get(id);
    if (known) return { session: known, setCookie: null };
    // bounded: the oldest sessions go first (a Map iterates in insertion order)
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const s: Session = { id: randomBytes(24).toString('base64url'), csrf: randomBytes(24).toString('base64url'), operator: false };
    this.sessions.set(s.id, s);
    return { session: s, setCookie: `${COOKIE}=${s.id}; Path=/dashboard; HttpOnly; SameSite=Strict` };
  }

  /** The token's check, in constant time whatever its length (both sides are hashed first). */
  private tokenMatches(token: string): boolean {
    return this.tokenDigest !== null && timingSafeEqual(digest(token), this.tokenDigest);
  }

  /** Throws a Refusal unless `token` is the operator token. */
  checkToken(token: unknown): void {
    if (this.tokenDigest === null) throw new Refusal(403, 'operator actions are disabled: this dashboard was started without --operator-token-file');
    if (token === undefined || token === null || token === '') throw new Refusal(401, 'an operator token is required for this action');
    if (typeof token !== 'string' || !TOKEN_RE.test(token)) throw new Refusal(403, 'malformed operator token');
    if (!this.tokenMatches(token)) throw new Refusal(403, 'wrong operator token');
  }

  /**
   * Checks a POST's origin and CSRF token against its session (throws a Refusal); `host` is the
   * request's Host header, which the Origin must name.
   */
  checkPost(req: IncomingMessage, session: Session | null): void {
    const origin = req.headers.origin;
    const host = req.headers.host;
    if (typeof origin !== 'string' || host === undefined || origin !== `http://${host}`) throw new Refusal(403, `refused: cross-origin request (Origin ${origin ?? 'absent'})`);
    const csrf = req.headers['x-csrf-token'];
    if (session === null || typeof csrf !== 'string' || csrf.length !== session.csrf.length || !timingSafeEqual(Buffer.from(csrf), Buffer.from(session.csrf)))
      throw new Refusal(403, 'refused: missing or wrong CSRF token (reload the page)');
  }

  /** The session a request names (no new one), or null. */
  existing(req: IncomingMessage): Session | null {
    const id = cookieOf(req, COOKIE);
    return (id && this.sessions.get(id)) || null;
  }

  /**
   * Throws a Refusal unless the request may act as operator: its session signed in, or it carries
   * `authorization: Bearer TOKEN`.
   */
  checkOperator(req: IncomingMessage, session: Session | null): void {
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      // `Bearer` alone: clients trim the header's trailing space of an empty token
      const m = /^Bearer(?: (.*))?$/.exec(auth);
      if (!m) throw new Refusal(403, 'malformed operator token (expected "Authorization: Bearer TOKEN")');
      return this.checkToken(m[1] ?? '');
    }
    if (this.tokenDigest === null) this.checkToken(undefined);
    if (!session?.operator) throw new Refusal(403, 'viewers cannot change anything: sign in with the operator token first');
  }
}

function cookieOf(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, v] = part.trim().split('=', 2);
    if (k === name && v) return v;
  }
  return null;
}
