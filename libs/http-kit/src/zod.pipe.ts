import { Body, Param, Query, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { validationError } from '@agentmon/contracts';

/** Parses a body, query string or path parameter with a zod schema; 400 naming every bad field. */
export class ZodPipe<T extends z.ZodType> implements PipeTransform<unknown, z.output<T>> {
  constructor(
    private readonly schema: T,
    private readonly prefix = '',
  ) {}
  transform(value: unknown): z.output<T> {
    const parsed = this.schema.safeParse(value ?? {});
    if (!parsed.success) throw validationError(parsed.error, this.prefix, this.prefix === '' ? 'Invalid request body' : `Invalid ${this.prefix}`);
    return parsed.data;
  }
}

export const ZBody = <T extends z.ZodType>(schema: T) => Body(new ZodPipe(schema));
export const ZQuery = <T extends z.ZodType>(schema: T) => Query(new ZodPipe(schema, 'query'));
export const ZParam = <T extends z.ZodType>(name: string, schema: T) => Param(name, new ZodPipe(schema, name));
