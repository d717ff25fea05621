import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import type { StreamKey } from '@agentmon/contracts';
import type { DependencyCheck } from '@agentmon/observability';
import { EventBus, type StreamLimits } from './event-bus.js';
import { RpcClient } from './rpc-client.js';
import type { NatsTlsOptions } from './nats-tls.js';

export interface MessagingOptions {
  service: string;
  natsUrl: string;
  logger: Logger;
  /** streams this service publishes to; created or updated at start */
  streams?: StreamKey[];
  streamLimits?: Partial<Record<StreamKey, StreamLimits>>;
  rpcTimeoutMs?: number;
  /** TLS to NATS (natsTls(config) from @agentmon/config); undefined for plain TCP */
  natsTls?: NatsTlsOptions;
}

@Injectable()
class MessagingLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(RpcClient) private readonly rpc: RpcClient,
  ) {}
  async onApplicationShutdown() {
    await this.bus.close();
    await this.rpc.close().catch(() => undefined);
  }
}

/** EventBus (JetStream) and RpcClient (request/reply) for one service, closed on shutdown. */
@Module({})
export class MessagingModule {
  static forRoot(opts: MessagingOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      providers: [
        {
          provide: EventBus,
          useFactory: async () => {
            const bus = await EventBus.connect(opts.natsUrl, `${opts.service}-events`, opts.logger, opts.natsTls);
            if (opts.streams?.length) await bus.ensureStreams(opts.streams, opts.streamLimits);
            return bus;
          },
        },
        {
          provide: RpcClient,
          useFactory: async () => {
            const client = new RpcClient(opts.natsUrl, opts.rpcTimeoutMs ?? 5000, `${opts.service}-rpc-client`, opts.natsTls);
            await client.connect();
            return client;
          },
        },
        MessagingLifecycle,
      ],
      exports: [EventBus, RpcClient],
    };
  }
}

export function natsCheck(bus: EventBus): DependencyCheck {
  return { name: 'nats', check: () => bus.ping() };
}
