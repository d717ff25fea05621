/**
 * The alert state machine of one (rule, agent) pair, as a pure function so that every path is unit
 * tested. The database layer applies the decision inside a transaction.
 *
 *   (none) --condition true, for = 0--> firing           (publishes fired)
 *   (none) --condition true, for > 0--> pending
 *   pending --still true after for----> firing           (publishes fired)
 *   pending --condition false---------> resolved         (closed quietly: it never fired)
 *   firing  --condition false---------> resolved         (publishes resolved)
 */
export type OpenAlertState = { status: 'pending' | 'firing'; startedAt: number } | null;

export type Transition =
  /** nothing to record */
  | { kind: 'none' }
  /** a new alert, pending or (for a zero `for`) firing at once */
  | { kind: 'open'; status: 'pending' | 'firing' }
  /** a pending alert whose condition held for the rule's `for` */
  | { kind: 'promote' }
  /** still open; record the latest value */
  | { kind: 'refresh' }
  /** a firing alert whose condition cleared */
  | { kind: 'resolve' }
  /** a pending alert whose condition cleared before it fired */
  | { kind: 'close' };

export function decideTransition(open: OpenAlertState, conditionHolds: boolean, at: number, forMs: number): Transition {
  if (!open) {
    if (!conditionHolds) return { kind: 'none' };
    return { kind: 'open', status: forMs <= 0 ? 'firing' : 'pending' };
  }
  if (!conditionHolds) return open.status === 'firing' ? { kind: 'resolve' } : { kind: 'close' };
  if (open.status === 'pending' && isDue(open.startedAt, at, forMs)) return { kind: 'promote' };
  return { kind: 'refresh' };
}

/** Whether a pending alert that started at startedAt has held for forMs at time `at`. */
export function isDue(startedAt: number, at: number, forMs: number): boolean {
  return at - startedAt >= forMs;
}

/** Whether a transition makes the alert start firing (and so publishes a fired event). */
export function startsFiring(t: Transition): boolean {
  return (t.kind === 'open' && t.status === 'firing') || t.kind === 'promote';
}
