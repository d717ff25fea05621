export * from './exception.filter.js';
export * from './zod.pipe.js';
export * from './request-id.middleware.js';
export * from './bootstrap.js';
export * from './http-metrics.interceptor.js';
export * from './https.js';
export * from './rate-limit/index.js';
export * from './run-service.js';
