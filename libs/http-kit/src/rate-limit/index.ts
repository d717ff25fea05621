export * from './gcra.js';
export * from './rate-limiter.js';
export * from './rate-limit-headers.js';
export * from './client-address.js';
