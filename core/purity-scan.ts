/**
 * A static scan of source text for what pure code may not use: a wall clock, randomness, timers,
 * promises, the process, I/O and module loading. core/purity.test.ts runs it over every core file;
 * the CLI runs it over the functions of a user's factor (init, update, extras, source and its
 * derivation's), so a factor that reads a clock is refused before it runs.
 *
 * Comments and the contents of string and template literals are blanked first (prose and column
 * names do not trip it); the expressions inside `${...}` are kept. The patterns are written as
 * strings on purpose: this file is core and passes its own scan.
 */

/** One banned use: a pattern (regular expression source) and what it means, in words. */
export interface PurityRule {
  pattern: string;
  what: string;
}

/** What core/ may not use (the core purity test). */
export const CORE_RULES: readonly PurityRule[] = [
  { pattern: '\\bDate\\b', what: 'Date (wall clock)' },
  { pattern: '\\bperformance\\b', what: 'performance (wall clock)' },
  { pattern: '\\bMath\\.random\\b', what: 'Math.random (unseeded randomness)' },
  { pattern: '\\bcrypto\\b', what: 'crypto (randomness / I/O)' },
  { pattern: '\\b(setTimeout|setInterval|setImmediate|queueMicrotask|clearTimeout|clearInterval)\\b', what: 'timers' },
  { pattern: '\\b(Promise|async|await)\\b', what: 'promises' },
  { pattern: '\\bprocess\\b', what: 'process (environment)' },
  { pattern: '\\brequire\\s*\\(', what: 'require (module loading)' },
  { pattern: '\\bimport\\s*\\(', what: 'dynamic import' },
  { pattern: '\\b(fetch|XMLHttpRequest|WebSocket)\\b', what: 'network' },
];

/** What a factor's functions may not use: the core's rules and ways around them. */
export const FACTOR_RULES: readonly PurityRule[] = [
  ...CORE_RULES,
  { pattern: '\\b(globalThis|window|global)\\b', what: 'globalThis (global state)' },
  { pattern: '\\b(eval|Function)\\s*\\(', what: 'eval (code from strings)' },
  { pattern: '\\b(fs|fsp|readFileSync|writeFileSync|readFile|writeFile|appendFileSync|openSync|readdirSync|createReadStream|createWriteStream|existsSync)\\b', what: 'fs (file I/O)' },
  { pattern: '\\b(Deno|Bun|navigator|localStorage)\\b', what: 'the runtime environment' },
];

/** Module names an import of which means I/O or the runtime (checked with string literals intact). */
const BANNED_MODULE = new RegExp('^(node:.+|fs|path|os|net|http|https|http2|dgram|dns|tls|child_process|worker_threads|cluster|crypto|perf_hooks|timers|process|readline|ioredis|apache-arrow|parquet-wasm)(/|$)');

/** A module specifier after `from`, `import` or `import(` / `require(` (a quote, the name, the same quote). */
const IMPORT_RE = new RegExp('(?:\\bfrom\\s*|\\bimport\\s*\\(?\\s*|\\brequire\\s*\\(\\s*)([\'"])([^\'"\\n]+)\\1', 'g');

/**
 * Source text with comments removed and string/template literal contents blanked (`''`, `""`,
 * ` `` `); a template's `${...}` expressions are kept, as code.
 */
export function stripCommentsAndStrings(src: string): string {
  return scan(src, false);
}

/** Source text with comments removed, strings kept. */
export function stripComments(src: string): string {
  return scan(src, true);
}

function scan(src: string, keepStrings: boolean): string {
  let out = '';
  let i = 0;
  /** Depths of `${` at which a template literal resumes when its `}` closes. */
  const templates: number[] = [];
  let depth = 0;
  const template = (): void => {
    // inside a template literal after its opening backtick (or a closing `}`)
    while (i < src.length) {
      const c = src[i];
      if (c === '\\') {
        if (keepStrings) out += src.slice(i, i + 2);
        i += 2;
      } else if (c === '`') {
        out += '`';
        i++;
        return;
      } else if (c === '$' && src[i + 1] === '{') {
        out += '${';
        i += 2;
        templates.push(depth);
        depth++;
        return;
      } else {
        // blanked text keeps its line breaks, so a hit's line number stays true
        if (keepStrings || c === '\n') out += c;
        i++;
      }
    }
  };
  while (i < src.length) {
    const c = src[i];
    const d = src[i + 1];
    if (c === '/' && d === '/') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '/' && d === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? src.length : end + 2;
      out += ' ' + src.slice(i, stop).replace(/[^\n]/g, '');
      i = stop;
    } else if (c === "'" || c === '"') {
      i++;
      const start = i - 1;
      while (i < src.length && src[i] !== c && src[i] !== '\n') i += src[i] === '\\' ? 2 : 1;
      i++;
      out += keepStrings ? src.slice(start, i) : c + c;
    } else if (c === '`') {
      out += '`';
      i++;
      template();
    } else if (c === '{') {
      depth++;
      out += c;
      i++;
    } else if (c === '}') {
      depth--;
      out += c;
      i++;
      if (templates.length > 0 && templates[templates.length - 1] === depth) {
        templates.pop();
        template();
      }
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The first line (1-based) of `src` that uses something `rules` ban, and what, or null. */
export function firstImpureLine(src: string, rules: readonly PurityRule[] = CORE_RULES): { line: number; what: string } | null {
  const lines = stripCommentsAndStrings(src).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const hit = rules.find((r) => new RegExp(r.pattern).test(lines[i]));
    if (hit) return { line: i + 1, what: hit.what };
  }
  return null;
}

/** What `src` uses that `rules` ban (each rule's `what`, once, in rule order). */
export function impurities(src: string, rules: readonly PurityRule[] = CORE_RULES): string[] {
  const code = stripCommentsAndStrings(src);
  return rules.filter((r) => new RegExp(r.pattern).test(code)).map((r) => r.what);
}

/**
 * Module specifiers of `src`'s static imports, re-exports and dynamic imports that mean I/O or the
 * runtime (`node:fs`, `crypto`, `ioredis`, ...), in order of appearance.
 */
export function bannedImports(src: string): string[] {
  const out: string[] = [];
  for (const m of stripComments(src).matchAll(IMPORT_RE)) {
    if (BANNED_MODULE.test(m[2]) && !out.includes(m[2])) out.push(m[2]);
  }
  return out;
}
