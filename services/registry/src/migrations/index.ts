import { Agents1764201600001 } from './0001-agents.js';

/** Every migration of the registry, in order. */
export const MIGRATIONS = [Agents1764201600001];
