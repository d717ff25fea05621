import 'reflect-metadata';
import { Controller, Get, Module, Post } from '@nestjs/common';
import { pino } from 'pino';
import { AppModule } from '../app.module.js';
import { GatewayConfigSchema } from '../config.js';
import { Access } from './access.decorator.js';
import { controllersOfModule, routesOf } from './route-inventory.js';

const config = GatewayConfigSchema.parse({});
const routes = routesOf(controllersOfModule(AppModule.forRoot(config, pino({ level: 'silent' }))));
const find = (method: string, path: string) => routes.find((r) => r.method === method && r.path === path);

describe('every route declares its access', () => {
  it('finds the gateway’s routes', () => {
    expect(routes.length).toBeGreaterThan(35);
    expect(find('GET', '/agents')).toBeDefined();
    expect(find('GET', '/health/live')).toBeDefined();
  });

  it.each(routes.map((r) => [`${r.method} ${r.path}`, r] as const))('%s declares access', (_name, route) => {
    expect(route.access).toBeDefined();
  });

  it('notices a route without a declaration', () => {
    @Controller('forgotten')
    class ForgottenController {
      @Get()
      list() {
        return [];
      }
      @Post()
      @Access('write')
      create() {
        return {};
      }
    }
    @Module({ controllers: [ForgottenController] })
    class ForgottenModule {}
    const found = routesOf(controllersOfModule(ForgottenModule));
    expect(found).toEqual([
      { controller: 'ForgottenController', handler: 'list', method: 'GET', path: '/forgotten', access: undefined },
      { controller: 'ForgottenController', handler: 'create', method: 'POST', path: '/forgotten', access: 'write' },
    ]);
  });
});

describe('the access each route declares', () => {
  it.each([
    ['POST', '/auth/login', 'public'],
    ['POST', '/auth/refresh', 'public'],
    ['GET', '/auth/jwks', 'public'],
    ['POST', '/auth/logout', 'user'],
    ['GET', '/users/profile', 'authenticated'],
    ['POST', '/users', 'admin'],
    ['GET', '/users', 'admin'],
    ['PATCH', '/users/:id', 'admin'],
    ['POST', '/api-keys', 'authenticated'],
    ['GET', '/api-keys', 'authenticated'],
    ['DELETE', '/api-keys/:id', 'authenticated'],
    ['GET', '/audit-logs', 'admin'],
    ['GET', '/agents', 'read'],
    ['GET', '/agents/:id', 'read'],
    ['POST', '/agents', 'write'],
    ['PATCH', '/agents/:id', 'write'],
    ['DELETE', '/agents/:id', 'write'],
    ['GET', '/agents/:id/config', 'read'],
    ['PUT', '/agents/:id/config', 'write'],
    ['GET', '/metrics/historical/:agent_id', 'read'],
    ['GET', '/metrics/aggregate/:timerange', 'read'],
    ['POST', '/alerts/rules', 'write'],
    ['GET', '/alerts/rules', 'read'],
    ['GET', '/alerts/rules/:id', 'read'],
    ['PUT', '/alerts/rules/:id', 'write'],
    ['DELETE', '/alerts/rules/:id', 'write'],
    ['GET', '/alerts/active', 'read'],
    ['GET', '/alerts', 'read'],
    ['POST', '/alerts/:id/ack', 'write'],
    ['GET', '/alerts/:id/notifications', 'read'],
    ['POST', '/notification-channels', 'write'],
    ['GET', '/notification-channels', 'read'],
    ['PUT', '/notification-channels/:id', 'write'],
    ['DELETE', '/notification-channels/:id', 'write'],
    ['POST', '/notification-channels/:id/test', 'write'],
    ['GET', '/dashboard/overview', 'read'],
    ['GET', '/dashboard/metrics/:timerange', 'read'],
    ['GET', '/dashboard/agents/summary', 'read'],
    ['GET', '/system/health', 'read'],
    ['GET', '/health/ready', 'public'],
    ['GET', '/metrics', 'public'],
  ])('%s %s is %s', (method, path, access) => {
    expect(find(method, path)?.access).toBe(access);
  });

  it('makes nothing public but login, refresh, the JWKS and the probes', () => {
    const publicRoutes = routes.filter((r) => r.access === 'public').map((r) => `${r.method} ${r.path}`).sort();
    expect(publicRoutes).toEqual(['GET /auth/jwks', 'GET /health/live', 'GET /health/ready', 'GET /metrics', 'POST /auth/login', 'POST /auth/refresh']);
  });
});
