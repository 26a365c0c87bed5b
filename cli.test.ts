/** The real CLI, run as a user would: `node bin/lockstep.js ...` from the repo root. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yargs from 'yargs';
import { COMMANDS } from './cli/commands/index.ts';
import { realData } from './testing/real-data.ts';

const ROOT = resolve(new URL('.', import.meta.url).pathname);
const REAL_DATA = realData('datasets import binance, then replay the imported day', 'crypto_binance_btcusdt');
const REAL = REAL_DATA.dir;
let dir: string;

const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { encoding: 'utf8', cwd: ROOT });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lockstep CLI', () => {
  it('--help lists the commands a new user needs', () => {
    const r = cli('--help');
    expect(r.status).toBe(0);
    for (const c of ['demo', 'replay', 'datasets', 'factors', 'bench']) expect(r.stdout).toContain(c);
  });

  it('an unknown command or missing flag says what to do and exits 2', () => {
    const r = cli('replay', '--date', '2024-03-15');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Missing required argument/);
    expect(r.stderr).toMatch(/--help/);
  });

  it('demo generates the sample day, replays it and prints where the output went', () => {
    const r = cli('demo', '--dir', join(dir, 'demo'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/replayed [\d,]+ events, 5 symbols/);
    expect(existsSync(join(dir, 'demo', 'factors.parquet'))).toBe(true);
  });

  it('datasets generate is deterministic and stats --json counts what it wrote', () => {
    for (const out of ['g1', 'g2']) expect(cli('datasets', 'generate', '--date', '2024-03-15', '--symbols', '2', '--seed', '3', '--preset', 'tiny', '--out', join(dir, out)).status).toBe(0);
    const a = JSON.parse(cli('datasets', 'stats', '--catalog', join(dir, 'g1'), '--json').stdout);
    const b = JSON.parse(cli('datasets', 'stats', '--catalog', join(dir, 'g2'), '--json').stdout);
    expect(a.events).toBeGreaterThan(10_000);
    expect(Object.keys(a.bySymbol)).toEqual(['SYM000', 'SYM001']);
    expect({ ...a, catalog: '' }).toEqual({ ...b, catalog: '' });
  });

  it('replay --speed rejects nonsense with a usage error', () => {
    const r = cli('replay', '--catalog', join(dir, 'g1'), '--date', '2024-03-15', '--speed', 'fast', '--out', join(dir, 'x.parquet'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/invalid speed "fast"/);
  });

  it('factors list prints the registry with code hashes', () => {
    const r = cli('factors', 'list', '--json');
    const m = JSON.parse(r.stdout);
    expect(m.factors.length).toBeGreaterThan(25);
    expect(m.factors[0]).toMatchObject({ name: 'last_price', version: 1 });
    expect(m.factors.every((f: { codeHash: string }) => /^[0-9a-f]{16}$/.test(f.codeHash))).toBe(true);
  });

  it.skipIf(!REAL_DATA.present)('datasets import binance, then replay the imported day', () => {
    const cat = join(dir, 'binance');
    const r = cli('datasets', 'import', '--format', 'binance', '--in', join(REAL, 'crypto_binance_btcusdt'), '--out', cat);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/imported binance: .*19,904 trade/);
    const rep = cli('replay', '--catalog', cat, '--date', '2024-08-09', '--symbols', 'BTCUSDT', '--out', join(dir, 'btc.parquet'));
    expect(rep.status, rep.stderr).toBe(0);
    expect(rep.stdout).toMatch(/replayed [\d,]+ events, 1 symbols/);
  });

  it.skipIf(!existsSync(REAL))('an importer error names file, line, field and value; --on-error skip counts instead', () => {
    const r = cli('datasets', 'import', '--format', 'taq', '--in', join(REAL, 'fundamentals_sec', 'AAPL_quarterly_fundamentals_sec.csv'), '--out', join(dir, 'bad'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^lockstep: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--help loads no command\'s heavy code (Arrow, Parquet, Redis, DuckDB, replay, live, parity, bench)', () => {
    // a resolve hook, registered before the CLI's own (tsx), logs every module the process loads
    writeFileSync(join(dir, 'log-hooks.mjs'), `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.LOCKSTEP_LOAD_LOG, r.url + '\\n');
  return r;
}
`);
    writeFileSync(join(dir, 'log-register.mjs'), `import { register } from 'node:module';\nregister('./log-hooks.mjs', import.meta.url);\n`);
    const log = join(dir, 'loaded.txt');
    const r = spawnSync(process.execPath, ['--import', join(dir, 'log-register.mjs'), join(ROOT, 'bin/lockstep.js'), '--help'], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, LOCKSTEP_LOAD_LOG: log } });
    expect(r.status, r.stderr).toBe(0);
    const loaded = readFileSync(log, 'utf8').split('\n');
    expect(loaded.some((u) => u.endsWith('/cli/commands/replay.ts'))).toBe(true); // the hook saw the CLI's modules
    const heavy = loaded.filter(
      (u) =>
        /\/node_modules\/(apache-arrow|parquet-wasm|ioredis|@duckdb|hyparquet|fzstd)\//.test(u) ||
        (u.startsWith(`file://${ROOT}/`) && /\/(replay|parity|bench|datasets|live)\//.test(u.slice(`file://${ROOT}`.length)) && !u.endsWith('/live/worker/defaults.ts')),
    );
    expect(heavy).toEqual([]);
  });
});

/** `lockstep <path> --help` as text, one line per entry (no wrapping), without spawning the CLI. */
async function helpText(path: string[]): Promise<string> {
  let out = '';
  await yargs()
    .scriptName('lockstep')
    .command([...COMMANDS])
    .wrap(null)
    .exitProcess(false)
    .parseAsync([...path, '--help'], {}, (_err, _argv, output) => {
      out = output;
    });
  return out;
}

/** The entries of one section of a help text (`Options:`, `Positionals:`, `Commands:`). */
function section(help: string, title: string): string[] {
  const lines = help.split('\n');
  const start = lines.indexOf(`${title}:`);
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && l.trim() === '');
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

describe('lockstep --help', () => {
  it('every command, option and positional has a description', async () => {
    const missing: string[] = [];
    const paths: string[][] = COMMANDS.map((c) => [String(c.command).split(' ')[0]]);
    expect(paths.length).toBeGreaterThan(10);
    for (let i = 0; i < paths.length; i++) {
      const help = await helpText(paths[i]);
      for (const title of ['Positionals', 'Options']) {
        for (const line of section(help, title)) {
          const [name, ...rest] = line.trim().split(/\s+/);
          const text = rest.join(' ').replace(/(\s*\[[^\]]*\])+$/, '').trim();
          if (!text) missing.push(`${paths[i].join(' ')} ${name}`);
        }
      }
      // subcommands: `lockstep datasets generate  write a ...`
      for (const line of section(help, 'Commands')) {
        const words = line.trim().split(/\s{2,}/);
        if (words.length < 2) missing.push(`command ${words[0]}`);
        paths.push([...paths[i], words[0].split(' ')[paths[i].length + 1]]);
      }
    }
    expect(paths.length).toBeGreaterThan(20);
    expect(missing).toEqual([]);
  });
});

