/**
 * TLS for every NATS connection a service opens: the EventBus (JetStream), the RpcClient and the
 * request/reply transport of bootstrapService all build their options here, so they agree.
 */

/** PEM texts: trusted CAs (else the system's) and an optional client certificate and key. */
export interface NatsTlsOptions {
  ca?: string;
  cert?: string;
  key?: string;
}

/**
 * `servers` for @nats-io/transport-node (and Nest's NATS transport, which passes its options on),
 * plus `tls` when TLS is required. The client ignores a URL's scheme, so tls:// URLs alone would not
 * require TLS: the `tls` option does (natsTls in @agentmon/config sets it for tls:// URLs).
 * `noAsyncTraces`: the client otherwise builds an Error (a stack capture) for every request and
 * publish to JetStream, only to append its stack to a failure; that was 3–4 % of ingest's CPU at
 * 1,000 requests/s (docs/benchmarks.md). Failures still carry their own message and stack.
 */
export function natsConnectionOptions(servers: string, tls?: NatsTlsOptions): { servers: string[]; noAsyncTraces: true; tls?: NatsTlsOptions } {
  const list = servers
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return tls ? { servers: list, noAsyncTraces: true, tls: { ...tls } } : { servers: list, noAsyncTraces: true };
}
