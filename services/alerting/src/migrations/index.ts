import { AlertingInit1764230400001 } from './0001-alerting-init.js';

/** Every migration of agentmon_alerting, in order. Add new ones at the end; never edit an applied one. */
export const MIGRATIONS = [AlertingInit1764230400001];
