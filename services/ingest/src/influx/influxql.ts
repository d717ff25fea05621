/**
 * Quoting for InfluxQL. Every name or value that reaches a query goes through one of these, so no
 * input can end a literal early and add clauses of its own.
 */

/** A double-quoted identifier (database, retention policy, measurement, field, tag key). */
export function quoteIdent(name: string): string {
  return `"${escapeCommon(name).replace(/"/g, '\\"')}"`;
}

/** A single-quoted string literal (tag values in WHERE clauses). */
export function quoteString(value: string): string {
  return `'${escapeCommon(value).replace(/'/g, "\\'")}'`;
}

/** Backslashes first, then the line breaks InfluxQL's scanner would refuse inside quotes. */
function escapeCommon(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** `"db"."rp"."measurement"` */
export function qualified(db: string, rp: string, measurement: string): string {
  return `${quoteIdent(db)}.${quoteIdent(rp)}.${quoteIdent(measurement)}`;
}
