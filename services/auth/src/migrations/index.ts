import { InitialSchema0000000000001 } from './0001-initial-schema.js';

/** In order; each runs once, in its own transaction, at start (see @agentmon/persistence). */
export const MIGRATIONS = [InitialSchema0000000000001];
