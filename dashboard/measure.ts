/**
 * The dashboard's load measurement, shared by its browser test and bench/dashboard-bench.ts: rows
 * written 10 times a second while the browser records its own frame times (requestAnimationFrame
 * deltas, long tasks) and the page script's rendering time; each row the page painted is matched
 * with the time it was written (same machine, same wall clock).
 */
import type { Page } from 'puppeteer-core';

/** Writes the rows of step k (wall time `now`), returning each row's `symbol|ts_event`. */
export type WriteTick = (k: number, now: number) => Promise<string[]>;

export interface LoadFigures {
  written: number;
  painted: number;
  latencyMs: { p50: number; p99: number; max: number };
  frameMs: { p50: number; p99: number; max: number; frames: number };
  longTasks: { count: number; ms: number };
  renderMs: number;
  renders: number;
  line: string;
}

export const q = (a: number[], p: number) => (a.length ? a[Math.min(a.length - 1, Math.floor(p * a.length))] : NaN);

/** What the page recorded between `startRecording` and `stopRecording`. */
export interface Recording {
  /** requestAnimationFrame deltas, ms. */
  frames: number[];
  /** Long tasks' durations, ms. */
  long: number[];
  /** [symbol, ts_event, wall-clock ms (performance.timeOrigin + now) of the frame after it was drawn]. */
  painted: [string, string, number][];
  renderMs: number;
  renders: number;
}

/** Starts recording frame times, long tasks and values drawn on an open dashboard `page`. */
export async function startRecording(page: Page): Promise<void> {
  // passed as text: a function would be serialized as transpiled, and tsx adds helpers (`__name`) the page lacks
  await page.evaluate(`(() => {
    const w = window;
    w.__frames = []; w.__long = []; w.__stop = false;
    w.__dash.painted = []; w.__dash.renderMs = 0; w.__dash.renders = 0;
    // one observer and one frame loop per page, however many measurements run on it
    if (!w.__observing) { w.__observing = true; new PerformanceObserver((l) => l.getEntries().forEach((e) => w.__long.push(e.duration))).observe({ type: 'longtask', buffered: false }); }
    const gen = w.__gen = (w.__gen || 0) + 1;
    let last = performance.now();
    const loop = (t) => { if (w.__gen !== gen) return; w.__frames.push(t - last); last = t; if (!w.__stop) requestAnimationFrame(loop); };
    requestAnimationFrame(loop);
  })()`);
}

/** Stops the recording and returns it. */
export async function stopRecording(page: Page): Promise<Recording> {
  return (await page.evaluate(`(() => {
    const w = window;
    w.__stop = true;
    return { frames: w.__frames.slice(1), long: w.__long, painted: w.__dash.painted, renderMs: w.__dash.renderMs, renders: w.__dash.renders };
  })()`)) as Recording;
}

/** Runs `tick` every 100 ms for `ms` on an open dashboard `page`; the figures and one line of them. */
export async function measureLoad(page: Page, ms: number, tick: WriteTick): Promise<LoadFigures> {
  await startRecording(page);
  const written = new Map<string, number>();
  const start = Date.now();
  for (let k = 1; Date.now() - start < ms; k++) {
    const now = Date.now();
    for (const key of await tick(k, now)) written.set(key, now);
    await new Promise((res) => setTimeout(res, Math.max(0, 100 - (Date.now() - now))));
  }
  await new Promise((res) => setTimeout(res, 500));
  const got = await stopRecording(page);
  const lat = got.painted.map(([s, te, t]) => t - (written.get(`${s}|${te}`) ?? NaN)).filter(Number.isFinite).sort((a, b) => a - b);
  const f = [...got.frames].sort((a, b) => a - b);
  const r: Omit<LoadFigures, 'line'> = {
    written: written.size,
    painted: lat.length,
    latencyMs: { p50: q(lat, 0.5), p99: q(lat, 0.99), max: lat.at(-1) ?? NaN },
    frameMs: { p50: q(f, 0.5), p99: q(f, 0.99), max: f.at(-1) ?? NaN, frames: f.length },
    longTasks: { count: got.long.length, ms: got.long.reduce((a, b) => a + b, 0) },
    renderMs: got.renderMs,
    renders: got.renders,
  };
  const line =
    `${r.written} rows written, ${r.painted} drawn (the rest coalesced or out of view); write -> on screen p50 ${r.latencyMs.p50.toFixed(1)} ms, p99 ${r.latencyMs.p99.toFixed(1)} ms, max ${r.latencyMs.max.toFixed(1)} ms; ` +
    `frame time p50 ${r.frameMs.p50.toFixed(1)} ms, p99 ${r.frameMs.p99.toFixed(1)} ms, max ${r.frameMs.max.toFixed(1)} ms over ${r.frameMs.frames} frames; ` +
    `long tasks ${r.longTasks.count} (${r.longTasks.ms.toFixed(0)} ms); the page script's own rendering ${r.renderMs.toFixed(0)} ms in ${r.renders} renders`;
  return { ...r, line };
}
