import type { ValueTransformer } from 'typeorm';

/** PostgreSQL bigint arrives as a string; these values (milliseconds) fit a JS number. */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};

/** double precision arrives as a number already, but NULL must stay null. */
export const nullableNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};
