import { RequestMethod, type DynamicModule, type Type } from '@nestjs/common';
import { METHOD_METADATA, MODULE_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ACCESS_METADATA } from './access.decorator.js';
import type { AccessLevel } from './permissions.js';

export interface RouteAccess {
  controller: string;
  handler: string;
  method: string;
  /** the path as the controller and handler declare it (before the global prefix) */
  path: string;
  access: AccessLevel | undefined;
}

/** Every HTTP handler of the given controllers, with the access each declares (or undefined). */
export function routesOf(controllers: readonly Type[]): RouteAccess[] {
  const out: RouteAccess[] = [];
  for (const controller of controllers) {
    const base = pathsOf(Reflect.getMetadata(PATH_METADATA, controller));
    const classAccess = Reflect.getMetadata(ACCESS_METADATA, controller) as AccessLevel | undefined;
    for (const name of methodNames(controller.prototype as object)) {
      const handler = (controller.prototype as Record<string, unknown>)[name];
      if (typeof handler !== 'function') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      const paths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
      if (method === undefined || paths === undefined) continue;
      const access = (Reflect.getMetadata(ACCESS_METADATA, handler) as AccessLevel | undefined) ?? classAccess;
      for (const b of base) {
        for (const p of pathsOf(paths)) {
          out.push({ controller: controller.name, handler: name, method: RequestMethod[method], path: join(b, p), access });
        }
      }
    }
  }
  return out;
}

/** The controllers of a module and of everything it imports, without instantiating anything. */
export function controllersOfModule(root: Type | DynamicModule): Type[] {
  const seen = new Set<unknown>();
  const controllers = new Set<Type>();
  const visit = (mod: Type | DynamicModule | Promise<DynamicModule> | undefined) => {
    if (!mod || mod instanceof Promise) return;
    const isDynamic = typeof mod === 'object' && 'module' in mod;
    const key = isDynamic ? mod : mod;
    if (seen.has(key)) return;
    seen.add(key);
    const cls = isDynamic ? mod.module : mod;
    const declared = [
      ...((Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, cls) as Type[] | undefined) ?? []),
      ...(isDynamic ? (mod.controllers ?? []) : []),
    ];
    for (const c of declared) controllers.add(c);
    const imports = [
      ...((Reflect.getMetadata(MODULE_METADATA.IMPORTS, cls) as (Type | DynamicModule)[] | undefined) ?? []),
      ...(isDynamic ? ((mod.imports ?? []) as (Type | DynamicModule)[]) : []),
    ];
    for (const i of imports) visit(i);
  };
  visit(root);
  return [...controllers];
}

function methodNames(proto: object): string[] {
  const names = new Set<string>();
  for (let p: object | null = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const n of Object.getOwnPropertyNames(p)) if (n !== 'constructor') names.add(n);
  }
  return [...names];
}

function pathsOf(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string') return [v];
  return [''];
}

function join(a: string, b: string): string {
  const parts = [a, b].map((s) => s.replace(/^\/+|\/+$/g, '')).filter((s) => s.length > 0);
  return '/' + parts.join('/');
}
