/** From the alerts firing before to those firing now: what fired, escalated and resolved (pure). */
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
  for (const [id, p] of prev) if (!firing.has(id)) transitions.push(transition(p, 'resolved', at));
  return { transitions, firing };
}

/** Fields in reading order (the CLI prints transitions as JSON lines). */
function transition(f: FiringAlert, state: AlertTransition['state'], at: number): AlertTransition {
  const t: AlertTransition = { id: f.id, state, severity: f.severity, summary: f.summary, at, since: f.since };
  if (f.shard !== undefined) t.shard = f.shard;
  if (f.value !== undefined) t.value = f.value;
  if (f.scope !== undefined) t.scope = f.scope;
  return t;
}
