import { baseConfigShape, env, loadConfig, z } from '@agentmon/config';

export const RegistryConfigSchema = z.object({
  ...baseConfigShape,
  PORT: env.port(8003),
  DATABASE_URL: env.postgresUrl('agentmon_registry'),
  /** an agent with no heartbeat for this long is offline */
  HEARTBEAT_TIMEOUT_MS: env.durationMs(90_000),
  /** how often the offline sweep runs */
  OFFLINE_SWEEP_INTERVAL_MS: env.durationMs(5_000),
});
export type RegistryConfig = z.output<typeof RegistryConfigSchema>;
export const REGISTRY_CONFIG = Symbol('REGISTRY_CONFIG');

export function loadRegistryConfig(source: NodeJS.ProcessEnv = process.env): RegistryConfig {
  return loadConfig('registry', RegistryConfigSchema, source);
}
