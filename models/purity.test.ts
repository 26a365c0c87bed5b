/**
 * The model layer's fold side must be as pure as core/: the slot stage, the deployment log, the
 * model file and the linear kinds run inside the fold. (The ONNX kind calls onnxruntime's native
 * session synchronously with one thread, a deterministic call; loading files is load.ts's and
 * registry.ts's, outside the fold.)
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bannedImports, CORE_RULES, impurities } from '../core/purity-scan.ts';

const PURE = ['spec.ts', 'deployment.ts', 'stage.ts', 'model.ts', 'linear.ts', 'evaluator.ts', 'errors.ts'];

describe('models purity', () => {
  for (const f of PURE) {
    it(`models/${f} uses no clock, randomness, timers, promises or I/O`, () => {
      const src = readFileSync(new URL(f, import.meta.url), 'utf8');
      expect([...impurities(src, CORE_RULES), ...(bannedImports(src).length > 0 ? ['I/O or runtime module import'] : [])]).toEqual([]);
    });
  }
});
