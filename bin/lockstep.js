#!/usr/bin/env node
// Thin launcher: registers the TypeScript loader (tsx) so the CLI runs from source on a fresh
// clone with no build step, then hands over to cli.ts.
import { register } from 'tsx/esm/api';

register();
await import('../cli.ts');
