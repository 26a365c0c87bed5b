/**
 * The release gate's judgement, as pure functions over plain data: parse the budgets and the
 * baseline, check every figure against both with its noise margin, render the markdown table and
 * decide the exit status. No benchmarks run here (see gate.ts), so all of it is testable with
 * figures made up in a test.
 *
 * Margins are multiplicative and symmetric: a figure is "worse by" value / reference when lower is
 * better and reference / value when higher is better, and it breaches when it is worse by more
 * than 1 + margin. A budget is the release guard (set with headroom for a slow, noisy CI box);
 * the baseline is the figures of the last accepted run, so a drop far inside the budget but beyond
 * the margin is still caught as a regression. An absolute rate with a same-run peer (replay rates
 * ÷ raw decode) is checked against its baseline scaled by the peer's speed now ÷ at baseline.
 */
import { InputError } from '../core/errors.ts';
import { FIGURES, figureSpec, type Better, type FigureSpec } from './gate-figures.ts';

export type GateMode = 'quick' | 'full';
export const GATE_MODES: readonly GateMode[] = ['quick', 'full'];

export interface BudgetEntry {
  /** The limit (a minimum when higher is better, a maximum when lower is better); absent: baseline only. */
  budget?: number;
  /** Noise margin as a fraction (0.25 = may be 25% worse than budget or baseline); default: the mode's. */
  margin?: number;
}

export interface Goal {
  value: number;
  source: string;
}

export interface ModeBudgets {
  /** What data and settings the mode runs (documentation only). */
  about?: string;
  /** Margin for entries that state none. */
  margin: number;
  figures: Record<string, BudgetEntry>;
}

export interface Budgets {
  goals: Record<string, Goal>;
  modes: Record<GateMode, ModeBudgets>;
}

export interface BaselineMode {
  recordedAt: string;
  machine: MachineInfo;
  figures: Record<string, number>;
}

export interface Baseline {
  modes: Partial<Record<GateMode, BaselineMode>>;
}

export interface MachineInfo {
  node: string;
  cpu: string;
  cores: number;
  platform: string;
}

export type Verdict = 'pass' | 'breach' | 'info';

export interface FigureCheck extends FigureSpec {
  value: number | null;
  budget: number | null;
  /** The budget moved by the margin: the value at which the figure breaches. */
  budgetLimit: number | null;
  baseline: number | null;
  /**
   * Machine speed now ÷ at baseline, from the figure's same-run peer (see FigureSpec.machinePeer);
   * null when the figure has none or either reading is missing. The baseline check uses
   * baseline × scale (÷ scale when lower is better).
   */
  machineScale: number | null;
  baselineLimit: number | null;
  /** value / baseline (not oriented: read it with the figure's direction). */
  ratio: number | null;
  margin: number | null;
  verdict: Verdict;
  /** Why it breached (empty when it passed). */
  reasons: string[];
  goal: number | null;
  goalSource: string | null;
  goalMet: boolean | null;
}

export interface GateReport {
  mode: GateMode;
  verdict: 'pass' | 'breach';
  breaches: number;
  figures: FigureCheck[];
}

// ---------- parsing ----------

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const positive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

function bad(file: string, field: string, value: unknown, reason: string): InputError {
  return new InputError({ file, field, value: typeof value === 'object' ? JSON.stringify(value) : value, reason });
}

/** Validates a parsed budgets file; every error names the file and the field at fault. */
export function parseBudgets(json: unknown, file: string): Budgets {
  if (!isObj(json)) throw bad(file, '(root)', json, 'must be a JSON object');
  const goals: Record<string, Goal> = {};
  const g = json.goals ?? {};
  if (!isObj(g)) throw bad(file, 'goals', g, 'must be an object of figure id → { value, source }');
  for (const [id, v] of Object.entries(g)) {
    if (!figureSpec(id)) throw bad(file, `goals.${id}`, id, `unknown figure; known: ${FIGURES.map((f) => f.id).join(', ')}`);
    if (!isObj(v) || !positive(v.value)) throw bad(file, `goals.${id}.value`, isObj(v) ? v.value : v, 'must be a number > 0');
    goals[id] = { value: v.value, source: typeof v.source === 'string' ? v.source : '' };
  }
  if (!isObj(json.modes)) throw bad(file, 'modes', json.modes, 'must be an object with "quick" and "full"');
  const modes = {} as Record<GateMode, ModeBudgets>;
  for (const mode of GATE_MODES) {
    const m = json.modes[mode];
    if (!isObj(m)) throw bad(file, `modes.${mode}`, m, 'missing or not an object');
    if (typeof m.margin !== 'number' || !(m.margin >= 0)) throw bad(file, `modes.${mode}.margin`, m.margin, 'must be a number ≥ 0');
    if (!isObj(m.figures)) throw bad(file, `modes.${mode}.figures`, m.figures, 'must be an object of figure id → { budget, margin }');
    const figures: Record<string, BudgetEntry> = {};
    for (const [id, e] of Object.entries(m.figures)) {
      const where = `modes.${mode}.figures.${id}`;
      if (!figureSpec(id)) throw bad(file, where, id, `unknown figure; known: ${FIGURES.map((f) => f.id).join(', ')}`);
      if (!isObj(e)) throw bad(file, where, e, 'must be an object { budget?, margin? }');
      if (e.budget !== undefined && !positive(e.budget)) throw bad(file, `${where}.budget`, e.budget, 'must be a number > 0');
      if (e.margin !== undefined && (typeof e.margin !== 'number' || !(e.margin >= 0))) throw bad(file, `${where}.margin`, e.margin, 'must be a number ≥ 0');
      figures[id] = { budget: e.budget as number | undefined, margin: e.margin as number | undefined };
    }
    modes[mode] = { about: typeof m.about === 'string' ? m.about : undefined, margin: m.margin, figures };
  }
  return { goals, modes };
}

/** Validates a parsed baseline file (figures of unknown ids are dropped: a figure may have been retired). */
export function parseBaseline(json: unknown, file: string): Baseline {
  if (!isObj(json) || !isObj(json.modes)) throw bad(file, 'modes', isObj(json) ? json.modes : json, 'must be an object of mode → { recordedAt, machine, figures }');
  const modes: Baseline['modes'] = {};
  for (const [mode, m] of Object.entries(json.modes)) {
    if (!(GATE_MODES as readonly string[]).includes(mode)) throw bad(file, `modes.${mode}`, mode, 'unknown mode; use quick or full');
    if (!isObj(m) || !isObj(m.figures)) throw bad(file, `modes.${mode}.figures`, isObj(m) ? m.figures : m, 'must be an object of figure id → number');
    const figures: Record<string, number> = {};
    for (const [id, v] of Object.entries(m.figures)) {
      if (!positive(v)) throw bad(file, `modes.${mode}.figures.${id}`, v, 'must be a number > 0');
      if (figureSpec(id)) figures[id] = v;
    }
    modes[mode as GateMode] = { recordedAt: String(m.recordedAt ?? ''), machine: (m.machine ?? {}) as MachineInfo, figures };
  }
  return { modes };
}

/** The baseline with `mode` replaced by these figures (the other mode is kept as it was). */
export function updatedBaseline(prev: Baseline, mode: GateMode, values: Record<string, number | null>, recordedAt: string, machine: MachineInfo): Baseline {
  const figures: Record<string, number> = {};
  for (const f of FIGURES) {
    const v = values[f.id];
    if (positive(v)) figures[f.id] = v;
  }
  return { modes: { ...prev.modes, [mode]: { recordedAt, machine, figures } } };
}

// ---------- checking ----------

/** How many times worse `value` is than `ref` (> 1 is worse, whatever the direction). */
export function worseBy(value: number, ref: number, better: Better): number {
  return better === 'lower' ? value / ref : ref / value;
}

/** The value at which a figure with reference `ref` breaches, given its margin. */
export function limitOf(ref: number, margin: number, better: Better): number {
  return better === 'lower' ? ref * (1 + margin) : ref / (1 + margin);
}

function meets(value: number, goal: number, better: Better): boolean {
  return better === 'lower' ? value <= goal : value >= goal;
}

/**
 * Checks one figure. Figures without an entry in the mode's budgets are shown as "info" and never
 * breach (the peers: raw decode, raw HMGET); a gated figure that was not measured, or is not a
 * finite number, breaches.
 */
export function checkFigure(spec: FigureSpec, value: number | null, mode: ModeBudgets, baseline: number | null, goal: Goal | undefined, machineScale: number | null = null): FigureCheck {
  const entry = mode.figures[spec.id];
  const base = {
    ...spec,
    value,
    baseline,
    machineScale,
    ratio: value !== null && baseline !== null ? value / baseline : null,
    goal: goal?.value ?? null,
    goalSource: goal?.source ?? null,
    goalMet: goal && value !== null && Number.isFinite(value) ? meets(value, goal.value, spec.better) : null,
  };
  if (!entry) return { ...base, budget: null, budgetLimit: null, baselineLimit: null, margin: null, verdict: 'info', reasons: [] };
  const margin = entry.margin ?? mode.margin;
  const budget = entry.budget ?? null;
  const budgetLimit = budget === null ? null : limitOf(budget, margin, spec.better);
  // the reference the baseline check uses: the baseline moved with the machine's speed when known
  const ref = baseline === null ? null : machineScale === null ? baseline : spec.better === 'higher' ? baseline * machineScale : baseline / machineScale;
  const baselineLimit = ref === null ? null : limitOf(ref, margin, spec.better);
  const reasons: string[] = [];
  if (value === null) reasons.push('not measured (the benchmark did not report it)');
  else if (!Number.isFinite(value)) reasons.push(`not a finite number (${value})`);
  else {
    if (budget !== null && worseBy(value, budget, spec.better) > 1 + margin) reasons.push(`over budget (limit ${fmtValue(budgetLimit!, spec.unit)} with the margin)`);
    if (ref !== null && worseBy(value, ref, spec.better) > 1 + margin) {
      const scaled = machineScale === null ? '' : `, baseline × ${machineScale.toFixed(2)} machine speed`;
      reasons.push(`regressed vs baseline (limit ${fmtValue(baselineLimit!, spec.unit)} with the margin${scaled})`);
    }
  }
  return { ...base, budget, budgetLimit, baselineLimit, margin, verdict: reasons.length ? 'breach' : 'pass', reasons };
}

/** Peer now ÷ peer at baseline (both must be finite and > 0), else null. */
export function machineScaleOf(peerNow: number | null | undefined, peerBase: number | null | undefined): number | null {
  if (!positive(peerNow) || !positive(peerBase)) return null;
  return peerNow / peerBase;
}

/** Checks every known figure against the mode's budgets and baseline. */
export function evaluateGate(mode: GateMode, values: Record<string, number | null>, budgets: Budgets, baseline: Baseline): GateReport {
  const mb = budgets.modes[mode];
  const base = baseline.modes[mode]?.figures ?? {};
  const figures = FIGURES.map((spec) => {
    const scale = spec.machinePeer === undefined ? null : machineScaleOf(values[spec.machinePeer], base[spec.machinePeer]);
    return checkFigure(spec, values[spec.id] ?? null, mb, base[spec.id] ?? null, budgets.goals[spec.id], scale);
  });
  const breaches = figures.filter((f) => f.verdict === 'breach').length;
  return { mode, verdict: breaches ? 'breach' : 'pass', breaches, figures };
}

/** 0 when every gated figure passed, 1 on any breach. */
export function gateExitCode(r: GateReport): 0 | 1 {
  return r.breaches > 0 ? 1 : 0;
}

// ---------- rendering ----------

const sig = (x: number, digits = 3): string => {
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  return Number(x.toPrecision(digits)).toString();
};

/** A value with its unit, compact: 1.23 M events/s, 31.2k events/s, 868 ns/event, 0.274 ms, 1.87×. */
export function fmtValue(x: number | null, unit: string): string {
  if (x === null) return '—';
  if (!Number.isFinite(x)) return String(x);
  if (unit === '×') return `${x.toFixed(2)}×`;
  if (unit.endsWith('/s')) {
    if (Math.abs(x) >= 1e6) return `${(x / 1e6).toFixed(2)} M ${unit}`;
    if (Math.abs(x) >= 1e3) return `${(x / 1e3).toFixed(1)}k ${unit}`;
    return `${sig(x)} ${unit}`;
  }
  if (unit === 'MB') return `${Math.round(x)} MB`;
  if (unit === '%') return `${sig(x)}%`;
  return `${sig(x)} ${unit}`;
}

const cmp = (better: Better) => (better === 'lower' ? '≤' : '≥');

/** The gate as a markdown table: figure, value, budget, baseline, ratio, margin, verdict, goal. */
export function renderGateTable(r: GateReport): string {
  const lines = [
    '| figure | value | budget | baseline | ratio | margin | verdict | goal |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const f of r.figures) {
    const budget = f.budget === null ? '—' : `${cmp(f.better)} ${fmtValue(f.budget, f.unit)}`;
    const ratio = f.ratio === null || !Number.isFinite(f.ratio) ? '—' : f.ratio.toFixed(2);
    const baseline = f.machineScale === null ? fmtValue(f.baseline, f.unit) : `${fmtValue(f.baseline, f.unit)} (machine × ${f.machineScale.toFixed(2)})`;
    const margin = f.margin === null ? '—' : `${Math.round(f.margin * 100)}%`;
    const verdict = f.verdict === 'breach' ? `**BREACH**: ${f.reasons.join('; ')}` : f.verdict;
    const goal = f.goal === null ? '—' : `${cmp(f.better)} ${fmtValue(f.goal, f.unit)}: ${f.goalMet === null ? 'not measured' : f.goalMet ? 'met' : '**not met**'}`;
    const name = f.relative ? f.name : `${f.name} (absolute)`;
    lines.push(`| ${name} | ${fmtValue(f.value, f.unit)} | ${budget} | ${baseline} | ${ratio} | ${margin} | ${verdict} | ${goal} |`);
  }
  return lines.join('\n');
}

/** One line: the verdict, the count of gated figures and breaches, and which ones. */
export function gateSummary(r: GateReport): string {
  const gated = r.figures.filter((f) => f.verdict !== 'info').length;
  const goals = r.figures.filter((f) => f.goal !== null);
  const met = goals.filter((f) => f.goalMet).length;
  const head = r.verdict === 'pass' ? `GATE PASS (${r.mode}): ${gated} figures within budget and baseline` : `GATE BREACH (${r.mode}): ${r.breaches} of ${gated} figures: ${r.figures.filter((f) => f.verdict === 'breach').map((f) => f.id).join(', ')}`;
  return `${head}; issue goals met ${met} of ${goals.length} (informational)`;
}
