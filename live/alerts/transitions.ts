/**
 * From the alerts firing before to those firing now: what fired, escalated and resolved (pure). A
 * resolved transition keeps the severity it fired with; its summary says what holds again and
 * after how long.
 */
import type { Alert, AlertTransition, FiringAlert } from './model.ts';

/**
 * The transitions from the alerts firing before (`prev`, by id) to those firing now: new ones
 * fire, missing ones resolve, and one whose severity or scope changed fires again (escalation is
 * news; a number that moves is not). Returns the map of alerts firing now (pure).
 */
export function alertTransitions(prev: ReadonlyMap<string, FiringAlert>, now: readonly Alert[], at: number): { transitions: AlertTransition[]; firing: Map<string, FiringAlert> } {
  const transitions: AlertTransition[] = [];
  const firing = new Map<string, FiringAlert>();
  for (const a of now) {
    const p = prev.get(a.id);
    const f: FiringAlert = { ...a, since: p?.since ?? at };
    firing.set(a.id, f);
    if (!p || p.severity !== a.severity || p.scope !== a.scope) transitions.push(transition(f, 'firing', at));
  }
  // a resolved alert's summary says so: the numbers it last fired with are no longer true
  for (const [id, p] of prev) if (!firing.has(id)) transitions.push(transition({ ...p, summary: `${resolvedText(p)}: resolved after ${duration(at - p.since)}` }, 'resolved', at));
  return { transitions, firing };
}

/** What holds again once the alert `a` resolves, in words (ids as evaluate.ts makes them). */
function resolvedText(a: FiringAlert): string {
  const [kind, shard] = a.id.split(':');
  switch (kind) {
    case 'lag':
      return `shard ${shard} has caught up`;
    case 'no-worker':
      return `shard ${shard} has a worker or no input again`;
    case 'stale':
      return `shard ${shard} produces output again`;
    case 'dead-letters':
      return `shard ${shard} has no recent dead letters`;
    case 'kill-switch':
      return 'the kill switch is off';
    case 'redis-down':
      return 'Redis answers again';
    case 'data-lost':
      return 'the deployment runs again (its meta key is back)';
    default:
      return a.id;
  }
}

/** `12.5 s`, `1 min 1.5 s`, `2 h 5 min`. */
function duration(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${Number(s.toFixed(1))} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Number((s % 60).toFixed(1))} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** Fields in reading order (the CLI prints transitions as JSON lines). */
function transition(f: FiringAlert, state: AlertTransition['state'], at: number): AlertTransition {
  const t: AlertTransition = { id: f.id, state, severity: f.severity, summary: f.summary, at, since: f.since };
  if (f.shard !== undefined) t.shard = f.shard;
  if (f.value !== undefined) t.value = f.value;
  if (f.scope !== undefined) t.scope = f.scope;
  return t;
}
