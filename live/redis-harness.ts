/**
 * A private redis-server for tests, benchmarks and parity runs: its own free port on loopback, its
 * own data directory, optional persistence (AOF, fsync always) so a restart keeps what was
 * acknowledged, and the faults the live tests need (stop, restart, SIGSTOP/SIGCONT). It never
 * touches a shared instance.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisHarnessOptions {
  /** Append-only file with fsync on every write (for restart tests). Default false. */
  persistence?: boolean;
  /** Extra `--name value` arguments for redis-server. */
  args?: string[];
  binary?: string;
  /**
   * Serve TLS only (no plain port), with a throwaway CA and server certificate made by openssl in
   * the harness directory; `url` is then `rediss://127.0.0.1:port/?tls_ca=<dir>/ca.pem`.
   */
  tls?: boolean;
}

/** A free TCP port on 127.0.0.1 (the OS picks it; we release it just before redis binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function ping(port: number, timeoutMs: number): Promise<boolean> {
  const { Socket } = await import('node:net');
  return new Promise((resolve) => {
    const s = new Socket();
    let buf = '';
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('error', () => done(false));
    s.connect(port, '127.0.0.1', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

async function tlsPing(port: number, caPath: string, timeoutMs: number): Promise<boolean> {
  const { connect } = await import('node:tls');
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1', ca: readFileSync(caPath), servername: 'localhost' });
    let buf = '';
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('error', () => done(false));
    s.once('secureConnect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

export class RedisHarness {
  private proc: ChildProcess | null = null;
  readonly dir: string;
  port = 0;

  private constructor(private readonly opts: RedisHarnessOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'lockstep-redis-'));
  }

  static async start(opts: RedisHarnessOptions = {}): Promise<RedisHarness> {
    const h = new RedisHarness(opts);
    h.port = await freePort();
    await h.launch();
    return h;
  }

  get url(): string {
    return this.opts.tls ? `rediss://127.0.0.1:${this.port}/?tls_ca=${encodeURIComponent(join(this.dir, 'ca.pem'))}` : `redis://127.0.0.1:${this.port}`;
  }

  /** A CA and a server certificate for 127.0.0.1 / localhost, valid for a day. */
  private makeCertificates(): string[] {
    const d = this.dir;
    const tlsArgs = ['--port', '0', '--tls-port', String(this.port), '--tls-cert-file', join(d, 'server.pem'), '--tls-key-file', join(d, 'server.key'), '--tls-ca-cert-file', join(d, 'ca.pem'), '--tls-auth-clients', 'no'];
    if (existsSync(join(d, 'server.pem'))) return tlsArgs; // a restart keeps its certificates
    const run = (args: string[]) => {
      const r = spawnSync('openssl', args, { cwd: d, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr || r.error?.message}`);
    };
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=lockstep-test-ca']);
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
    writeFileSync(join(d, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'san.ext']);
    return tlsArgs;
  }

  private async launch(extra: readonly string[] = []): Promise<void> {
    const persistence = this.opts.persistence
      ? ['--appendonly', 'yes', '--appendfsync', 'always', '--save', '']
      : ['--appendonly', 'no', '--save', ''];
    const ports = this.opts.tls ? this.makeCertificates() : ['--port', String(this.port)];
    const args = [...ports, '--bind', '127.0.0.1', '--dir', this.dir, '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'warning', ...persistence, ...(this.opts.args ?? []), ...extra];
    const proc = spawn(this.opts.binary ?? 'redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    let stderr = '';
    proc.stderr?.on('data', (d) => (stderr += d.toString()));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}: ${stderr}`);
      if (this.opts.tls ? await tlsPing(this.port, join(this.dir, 'ca.pem'), 500) : await ping(this.port, 200)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    proc.kill('SIGKILL');
    throw new Error(`redis-server did not answer on port ${this.port} within 10 s: ${stderr}`);
  }

  /** Stops the server (SIGTERM: with persistence on, the AOF is complete). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
    this.proc = null;
  }

  /** Kills the server without a chance to save (SIGKILL). */
  async crash(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
    this.proc = null;
  }

  /**
   * Starts it again on the same port and directory; `extra` arguments for this start only (e.g.
   * `--replicaof` for a failed primary brought back as a replica of the promoted one).
   */
  async restart(extra: readonly string[] = []): Promise<void> {
    await this.stop();
    await this.launch(extra);
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  async close(): Promise<void> {
    this.resume();
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A local Redis Cluster of `nodes` redis-server processes on free loopback ports (all masters, or
 * masters with replicas), slots assigned with `redis-cli --cluster create`, for the live tests'
 * Cluster path.
 */
export class RedisClusterHarness {
  private constructor(readonly nodes: RedisHarness[]) {}

  /** `nodes` redis-servers; with `replicas` R, every master has R replicas (nodes / (R + 1) masters). */
  static async start(nodes = 3, replicas = 0): Promise<RedisClusterHarness> {
    const hs: RedisHarness[] = [];
    try {
      for (let i = 0; i < nodes; i++) {
        hs.push(await RedisHarness.start({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes.conf`, '--cluster-node-timeout', '2000'] }));
      }
    } catch (e) {
      // one node failed to start (a port taken meanwhile): the ones started must not outlive the test
      for (const h of hs) await h.close();
      throw e;
    }
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync('redis-cli', ['--cluster', 'create', ...hs.map((h) => `127.0.0.1:${h.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`redis-cli --cluster create failed: ${r.stdout} ${r.stderr}`);
    const c = new RedisClusterHarness(hs);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      // every node must agree the cluster is up, or the first commands meet CLUSTERDOWN
      const ok = hs.every((h) => spawnSync('redis-cli', ['-p', String(h.port), 'cluster', 'info'], { encoding: 'utf8' }).stdout.includes('cluster_state:ok'));
      // and every replica must have synced: one that never did cannot be promoted (its data is too old)
      const info = (h: RedisHarness) => spawnSync('redis-cli', ['-p', String(h.port), 'info', 'replication'], { encoding: 'utf8' }).stdout;
      const synced = hs.every((h) => !/role:slave/.test(info(h)) || /master_link_status:up/.test(info(h)));
      if (ok && synced) return c;
      await new Promise((res) => setTimeout(res, 100));
    }
    await c.close();
    throw new Error('cluster did not reach cluster_state:ok (and its replicas their sync) within 15 s');
  }

  get url(): string {
    return `redis://${this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`;
  }

  async close(): Promise<void> {
    for (const n of this.nodes) await n.close();
  }
}
