import { MessagePattern, RpcException, type NatsContext } from '@nestjs/microservices';
import type { Logger } from 'pino';
import {
  AppError,
  HEADERS,
  RPC,
  validationError,
  type RpcParsedRequest,
  type RpcResponseInput,
  type RpcSubject,
} from '@agentmon/contracts';
import { runWithRequestId } from '@agentmon/observability';

let rpcLogger: Pick<Logger, 'error' | 'warn'> | undefined;
/** Where RPC handlers report unexpected errors (set once at bootstrap). */
export function setRpcLogger(logger: Pick<Logger, 'error' | 'warn'>): void {
  rpcLogger = logger;
}

type Handler<S extends RpcSubject> = (req: RpcParsedRequest<S>) => Promise<RpcResponseInput<S>>;

/**
 * Declares a request/reply handler for one contract subject. The payload is parsed with the
 * subject's schema before the method runs, the reply is checked against the response schema, the
 * caller's request id is restored for logging, and errors become the contract's error body.
 */
export function RpcHandler<S extends RpcSubject>(subject: S) {
  const contract = RPC[subject];
  return function <T extends Handler<S>>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<T>): void {
    const original = descriptor.value!;
    const wrapped = async function (this: unknown, data: unknown, ctx?: NatsContext) {
      const requestId = ctx?.getHeaders?.()?.get(HEADERS.requestId) || undefined;
      return runWithRequestId(requestId, async () => {
        const parsed = contract.request.safeParse(data);
        if (!parsed.success) throw new RpcException(validationError(parsed.error).toBody(requestId));
        let result: unknown;
        try {
          result = await original.call(this, parsed.data as RpcParsedRequest<S>);
        } catch (err) {
          if (err instanceof AppError) throw new RpcException(err.toBody(requestId));
          rpcLogger?.error({ err, subject }, 'rpc handler failed');
          throw new RpcException(new AppError('internal', 'internal error').toBody(requestId));
        }
        const out = contract.response.safeParse(result);
        if (!out.success) {
          rpcLogger?.error({ subject, issues: out.error.issues }, 'rpc handler reply breaks its contract');
          throw new RpcException(new AppError('internal', 'internal error').toBody(requestId));
        }
        return out.data;
      });
    };
    // Nest reads metadata from the function object; keep the original's name for its logs.
    Object.defineProperty(wrapped, 'name', { value: original.name });
    descriptor.value = wrapped as unknown as T;
    MessagePattern(subject)(target, key, descriptor);
  };
}
