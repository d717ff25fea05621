/** PostgreSQL unique_violation, whether raised through TypeORM (QueryFailedError) or pg directly. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string } } | null;
  return e?.code === '23505' || e?.driverError?.code === '23505';
}
