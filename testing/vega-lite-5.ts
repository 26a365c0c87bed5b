/**
 * Vega-Lite 5 for the tests of the notebooks' charts: the specs go out as
 * `application/vnd.vegalite.v5+json`, which JupyterLab 4 draws with its own Vega-Lite 5, while the
 * project compiles them with Vega-Lite 6. So each spec is also checked against what the frontend
 * runs: the v5 JSON schema and the v5 compiler (devDependency `vega-lite-5`, an alias of
 * vega-lite 5.23.0).
 *
 * Vega-Lite 5's CommonJS build requires `vega` (its peer, 5.x) at run time, for utilities vega 5
 * re-exports from vega-util, vega-expression and vega-event-selector. The project's vega is 6: ESM
 * with a top-level await, which a CommonJS `require` cannot load (ERR_REQUIRE_ASYNC_MODULE). So the
 * build is evaluated here with `vega` bound to those three packages at the versions vega-lite 5
 * itself depends on (installed beside it), which is what vega 5 would have handed it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';

export interface VegaLite5 {
  /** The package's version (5.x). */
  version: string;
  /** The v5 schema's errors for a spec, as one line each; [] when it is valid. */
  schemaErrors(spec: unknown): string[];
  /** Compiles with the v5 compiler; what it warned or threw, one line each ([] when clean). */
  compileProblems(spec: unknown): string[];
}

interface VlModule {
  version: string;
  compile(spec: unknown, opts: { logger: unknown }): { spec: unknown };
}

let loaded: VegaLite5 | null = null;

/** Vega-Lite 5's schema and compiler (loaded once). */
export function vegaLite5(): VegaLite5 {
  if (loaded) return loaded;
  const dir = dirname(createRequire(import.meta.url).resolve('vega-lite-5/package.json'));
  const own = createRequire(join(dir, 'package.json'));
  const vega = { ...own('vega-util'), parseExpression: own('vega-expression').parseExpression, parseSelector: own('vega-event-selector').parseSelector };
  const mod = { exports: {} as Record<string, unknown> };
  // the UMD build's CommonJS branch: factory(exports, require('vega'))
  new Function('exports', 'module', 'require', readFileSync(join(dir, 'build/vega-lite.js'), 'utf8'))(mod.exports, mod, (id: string) => (id === 'vega' ? vega : own(id)));
  const vl = mod.exports as unknown as VlModule;
  const ajv = new Ajv({ strict: false, allowUnionTypes: true, validateFormats: false });
  const validate = ajv.compile(JSON.parse(readFileSync(join(dir, 'build/vega-lite-schema.json'), 'utf8')));
  loaded = {
    version: vl.version,
    schemaErrors(spec) {
      if (validate(spec)) return [];
      return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
    },
    compileProblems(spec) {
      const out: string[] = [];
      const collect = (...args: readonly unknown[]) => void out.push(args.map(String).join(' '));
      const logger = { level: () => logger, warn: collect, error: collect, info: () => logger, debug: () => logger };
      try {
        // compile may annotate the spec it is given: it gets a copy
        vl.compile(structuredClone(spec), { logger });
      } catch (e) {
        out.push(`threw: ${(e as Error).message}`);
      }
      return out;
    },
  };
  return loaded;
}
