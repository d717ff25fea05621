export * from './codec.js';
export * from './rpc-client.js';
export * from './rpc-handler.js';
export * from './event-bus.js';
export * from './messaging.module.js';
export * from './nats-tls.js';
export * from './jetstream-publisher.js';
