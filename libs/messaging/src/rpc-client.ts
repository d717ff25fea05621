import { ClientNats, NatsRecordBuilder } from '@nestjs/microservices';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { firstValueFrom, timeout, TimeoutError } from 'rxjs';
import {
  AppError,
  ErrorBodySchema,
  HEADERS,
  RPC,
  validationError,
  type RpcRequest,
  type RpcResponse,
  type RpcSubject,
} from '@agentmon/contracts';
import { currentRequestId } from '@agentmon/observability';
import { natsConnectionOptions, type NatsTlsOptions } from './nats-tls.js';

export interface RpcCallOptions {
  timeoutMs?: number;
}

/**
 * Typed request/reply over NATS. The subject decides the payload type at compile time, and both
 * the request and the reply are checked against the contract's schema at run time.
 */
export class RpcClient {
  private readonly client: ClientNats;

  constructor(
    servers: string,
    private readonly defaultTimeoutMs = 5000,
    name = 'agentmon-rpc-client',
    tls?: NatsTlsOptions,
  ) {
    this.client = new ClientNats({ ...natsConnectionOptions(servers, tls), name, maxReconnectAttempts: -1 } as never);
  }

  async connect(): Promise<void> {
    await this.client.connect();
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  async request<S extends RpcSubject>(subject: S, payload: RpcRequest<S>, opts: RpcCallOptions = {}): Promise<RpcResponse<S>> {
    const contract = RPC[subject];
    const parsed = contract.request.safeParse(payload);
    if (!parsed.success) throw validationError(parsed.error);
    const hdrs = natsHeaders();
    const requestId = currentRequestId();
    if (requestId) hdrs.set(HEADERS.requestId, requestId);
    const record = new NatsRecordBuilder(parsed.data).setHeaders(hdrs).build();
    const ms = opts.timeoutMs ?? this.defaultTimeoutMs;
    let reply: unknown;
    try {
      reply = await firstValueFrom(this.client.send(subject, record).pipe(timeout(ms)));
    } catch (err) {
      throw toAppError(err, subject, ms);
    }
    const checked = contract.response.safeParse(reply);
    if (!checked.success) {
      throw new AppError('bad_gateway', `reply to ${subject} does not match its contract`, validationError(checked.error).details);
    }
    return checked.data as RpcResponse<S>;
  }
}

function toAppError(err: unknown, subject: string, ms: number): AppError {
  if (err instanceof AppError) return err;
  const owner = subject.split('.')[1];
  if (err instanceof TimeoutError) {
    return new AppError('unavailable', `the ${owner} service did not answer within ${ms} ms`, undefined, 5);
  }
  if (/no subscribers/i.test((err as Error)?.message ?? '')) {
    return new AppError('unavailable', `the ${owner} service is not running`, undefined, 5);
  }
  const body = ErrorBodySchema.safeParse(err);
  if (body.success) return AppError.fromBody(body.data);
  return new AppError('bad_gateway', `request ${subject} failed: ${(err as Error)?.message ?? String(err)}`);
}
