export function influxdConfig(o: { dir: string; port: number; rpcPort: number; cacheMaxMemory?: string; cqRunInterval?: string }): string;
