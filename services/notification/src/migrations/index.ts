import { NotificationInitial1764201600001 } from './0001-initial.js';

/** Every migration, in order. Never edit one that has shipped: add the next number. */
export const MIGRATIONS = [NotificationInitial1764201600001];
