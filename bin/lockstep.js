#!/usr/bin/env node
// Thin launcher. In a git checkout (cli.ts next to this folder) it registers the TypeScript loader
// (tsx) and runs the CLI from source, so a fresh clone needs no build step. The installed package
// ships no sources: there it runs the compiled CLI from dist/.
import { existsSync } from 'node:fs';

if (existsSync(new URL('../cli.ts', import.meta.url))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli.ts');
} else {
  await import('../dist/cli.js');
}
