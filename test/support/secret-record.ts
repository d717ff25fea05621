/**
 * Secrets the end-to-end and browser tests use (passwords, minted API keys, tokens, webhook secrets)
 * are written down here, so that `npm test` can check afterwards that none of them appears in a log
 * file of the run (scripts/test.mjs, "secrets in logs"). The file is AGENTMON_E2E_SECRETS_FILE (one
 * JSON line `{label, value}` each, mode 600, inside the git-ignored profile folder); without it
 * nothing is recorded.
 */
import { appendFileSync } from 'node:fs';

const FILE = process.env.AGENTMON_E2E_SECRETS_FILE;
/** shorter values would match by chance (and are no secret worth the name) */
const MIN_LENGTH = 8;
const recorded = new Set<string>();

export function recordSecret(label: string, value: unknown): void {
  if (!FILE || typeof value !== 'string' || value.length < MIN_LENGTH || recorded.has(value)) return;
  recorded.add(value);
  appendFileSync(FILE, `${JSON.stringify({ label, value })}\n`, { mode: 0o600 });
}

/** Field names whose string values are secrets, wherever they occur in a request or an answer. */
const SECRET_FIELDS = new Set(['password', 'secret', 'token', 'access_token', 'refresh_token', 'api_key', 'client_secret', 'smtp_password', 'key']);

/** Records every secret-named string field of a request or response body (`key` only when it is an `amk_` key). */
export function recordSecretsIn(where: string, body: unknown, depth = 0): void {
  if (!FILE || depth > 8 || body === null || typeof body !== 'object') return;
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    if (typeof value === 'string') {
      if (SECRET_FIELDS.has(name) && (name !== 'key' || value.startsWith('amk_'))) recordSecret(`${where} ${name}`, value);
    } else recordSecretsIn(where, value, depth + 1);
  }
}

/** The credential of an Authorization header (`Bearer x`, `Token x`, `Basic x`). */
export function recordAuthorization(value: string | undefined): void {
  const m = value ? /^\S+\s+(\S+)$/.exec(value) : null;
  if (m) recordSecret('authorization header', m[1]);
}
