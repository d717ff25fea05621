// The configuration of an influxd of agentmon's own (the dev, test and bench profiles, and the
// integration tests that kill and restart an influxd of their own): files under `dir`, HTTP on
// `port`, the meta RPC on `rpcPort`, nothing reported or logged per request.

/** @param {{ dir: string, port: number, rpcPort: number, cacheMaxMemory?: string, cqRunInterval?: string }} o */
export function influxdConfig({ dir, port, rpcPort, cacheMaxMemory = '512m', cqRunInterval = '10s' }) {
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
  cache-max-memory-size = "${cacheMaxMemory}"
  max-series-per-database = 0
  max-values-per-tag = 0
[coordinator]
  write-timeout = "10s"
[retention]
  enabled = true
  check-interval = "30m"
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${port}"
  auth-enabled = false
  log-enabled = false
  max-body-size = 0
[continuous_queries]
  enabled = true
  log-enabled = false
  run-interval = "${cqRunInterval}"
`;
}
