/**
 * Who may call each route of the gateway: the one table behind the access-matrix end-to-end test
 * (access-matrix.e2e-spec.ts walks every route of the running gateway's OpenAPI document with every
 * kind of caller and checks these answers) and behind the matrix in docs/security.md
 * (`node scripts/security-doc.mjs` writes it; `--check` fails when the file is stale).
 *
 * Plain data and pure functions, no imports: scripts/security-doc.mjs compiles this file on its own.
 */

/** The callers every route is tried with. Keys are minted by the admin with exactly that permission. */
export const CALLERS = ['anonymous', 'viewer', 'operator', 'admin', 'key:ingest:write', 'key:read', 'key:write', 'key:admin'] as const;
export type Caller = (typeof CALLERS)[number];

/**
 * What a route declares (`@Access` in the gateway):
 * - `public`: anyone, credentials are not looked at;
 * - `authenticated`: any user, or an API key holding a gateway permission (read, write or admin);
 *   an ingest-only key is for the ingest port and gets 403 everywhere here;
 * - `user`: a user's login session, not an API key (403 for keys);
 * - `read` ⊂ `write` ⊂ `admin`: viewer / operator / admin rights (users by role, keys by permission).
 */
export type Level = 'public' | 'authenticated' | 'user' | 'read' | 'write' | 'admin';

export interface RouteRow {
  level: Level;
  /** the status of a successful call */
  success: 200 | 201 | 202 | 204;
  /** statuses that differ from what the level implies, each explained in `note` */
  except?: Partial<Record<Caller, number>>;
  note?: string;
  /** served, but not part of the API document (probes and Prometheus) */
  outsideOpenApi?: true;
}

/** Every route of the gateway, as `METHOD /path` with OpenAPI `{param}` placeholders. */
export const ROUTES = {
  'POST /api/v2/auth/login': { level: 'public', success: 200, note: 'throttled per username and per address (429)' },
  'POST /api/v2/auth/refresh': { level: 'public', success: 200, note: 'the refresh token is the credential; a used one revokes its session' },
  'POST /api/v2/auth/logout': { level: 'user', success: 204 },
  'GET /api/v2/auth/jwks': { level: 'public', success: 200 },
  'GET /api/v2/users/profile': { level: 'authenticated', success: 200, note: 'for a key: its creator' },
  'POST /api/v2/users': { level: 'admin', success: 201 },
  'GET /api/v2/users': { level: 'admin', success: 200 },
  'PATCH /api/v2/users/{id}': { level: 'admin', success: 200, note: 'role, active, password; ends the user’s sessions' },
  'POST /api/v2/api-keys': { level: 'authenticated', success: 201, note: 'never more than the caller holds (403)' },
  'GET /api/v2/api-keys': { level: 'authenticated', success: 200, note: 'own keys; admins see all' },
  'DELETE /api/v2/api-keys/{id}': { level: 'authenticated', success: 204, note: 'own keys; admins any (others’ keys answer 404)' },
  'GET /api/v2/audit-logs': { level: 'admin', success: 200 },
  'GET /api/v2/agents': { level: 'read', success: 200 },
  'POST /api/v2/agents': { level: 'write', success: 201 },
  'GET /api/v2/agents/{id}': { level: 'read', success: 200 },
  'PATCH /api/v2/agents/{id}': { level: 'write', success: 200 },
  'DELETE /api/v2/agents/{id}': { level: 'write', success: 204 },
  'GET /api/v2/agents/{id}/config': { level: 'read', success: 200 },
  'PUT /api/v2/agents/{id}/config': { level: 'write', success: 200 },
  'GET /api/v2/metrics/aggregate/{timerange}': { level: 'read', success: 200 },
  'GET /api/v2/metrics/historical/{agent_id}': { level: 'read', success: 200 },
  'POST /api/v2/alerts/rules': { level: 'write', success: 201 },
  'GET /api/v2/alerts/rules': { level: 'read', success: 200 },
  'GET /api/v2/alerts/rules/{id}': { level: 'read', success: 200 },
  'PUT /api/v2/alerts/rules/{id}': { level: 'write', success: 200 },
  'DELETE /api/v2/alerts/rules/{id}': { level: 'write', success: 204 },
  'GET /api/v2/alerts/active': { level: 'read', success: 200 },
  'GET /api/v2/alerts': { level: 'read', success: 200 },
  'GET /api/v2/alerts/{id}': { level: 'read', success: 200 },
  'POST /api/v2/alerts/{id}/ack': { level: 'write', success: 200 },
  'GET /api/v2/alerts/{id}/notifications': { level: 'read', success: 200 },
  'POST /api/v2/notification-channels': { level: 'write', success: 201, note: 'secrets are stored encrypted and never returned' },
  'GET /api/v2/notification-channels': { level: 'read', success: 200 },
  'GET /api/v2/notification-channels/{id}': { level: 'read', success: 200 },
  'PUT /api/v2/notification-channels/{id}': { level: 'write', success: 200 },
  'DELETE /api/v2/notification-channels/{id}': { level: 'write', success: 204 },
  'POST /api/v2/notification-channels/{id}/test': { level: 'write', success: 200 },
  'GET /api/v2/dashboard/overview': { level: 'read', success: 200 },
  'GET /api/v2/dashboard/metrics/{timerange}': { level: 'read', success: 200 },
  'GET /api/v2/dashboard/agents/summary': { level: 'read', success: 200 },
  'GET /api/v2/system/health': { level: 'read', success: 200 },
  'GET /health/live': { level: 'public', success: 200, outsideOpenApi: true },
  'GET /health/ready': { level: 'public', success: 200, outsideOpenApi: true },
  'GET /metrics': { level: 'public', success: 200, outsideOpenApi: true, note: 'Prometheus text format' },
} as const satisfies Record<string, RouteRow>;
export type RouteKey = keyof typeof ROUTES;

const USER_LEVEL: Record<Exclude<Caller, 'anonymous' | `key:${string}`>, number> = { viewer: 0, operator: 1, admin: 2 };
const KEY_LEVEL: Record<Extract<Caller, `key:${string}`>, number> = { 'key:ingest:write': -1, 'key:read': 0, 'key:write': 1, 'key:admin': 2 };
const NEEDED: Record<'read' | 'write' | 'admin', number> = { read: 0, write: 1, admin: 2 };

/** The status a caller gets from a route, as the table says. */
export function expectedStatus(row: RouteRow, caller: Caller): number {
  const override = row.except?.[caller];
  if (override !== undefined) return override;
  if (row.level === 'public') return row.success;
  if (caller === 'anonymous') return 401;
  const isKey = caller.startsWith('key:');
  const rank = isKey ? KEY_LEVEL[caller as keyof typeof KEY_LEVEL] : USER_LEVEL[caller as keyof typeof USER_LEVEL];
  switch (row.level) {
    case 'user':
      return isKey ? 403 : row.success;
    case 'authenticated':
      return rank >= 0 ? row.success : 403;
    default:
      return rank >= NEEDED[row.level] ? row.success : 403;
  }
}

const HEADER: Record<Caller, string> = {
  anonymous: 'anonymous',
  viewer: 'viewer',
  operator: 'operator',
  admin: 'admin',
  'key:ingest:write': 'key `ingest:write`',
  'key:read': 'key `read`',
  'key:write': 'key `write`',
  'key:admin': 'key `admin`',
};

/** The matrix as a Markdown table (the generated part of docs/security.md). */
export function renderAccessMatrix(): string {
  const cell = (status: number, success: number) => (status === success ? `✅ ${status}` : `❌ ${status}`);
  const lines = [
    `| route | declares | ${CALLERS.map((c) => HEADER[c]).join(' | ')} | note |`,
    `|---|---|${CALLERS.map(() => '---').join('|')}|---|`,
  ];
  for (const [key, row] of Object.entries(ROUTES) as [RouteKey, RouteRow][]) {
    const [method, path] = key.split(' ');
    const cells = CALLERS.map((c) => cell(expectedStatus(row, c), row.success));
    lines.push(`| \`${method} ${path}\` | ${row.level} | ${cells.join(' | ')} | ${row.note ?? ''}${row.outsideOpenApi ? (row.note ? '; ' : '') + 'not in the API document' : ''} |`);
  }
  return lines.join('\n');
}

export const MATRIX_BEGIN = '<!-- access-matrix:begin (generated from test/e2e/access-matrix.ts by `node scripts/security-doc.mjs`; do not edit by hand) -->';
export const MATRIX_END = '<!-- access-matrix:end -->';

/** docs/security.md with its matrix replaced by the current one. */
export function withMatrix(doc: string): string {
  const begin = doc.indexOf(MATRIX_BEGIN);
  const end = doc.indexOf(MATRIX_END);
  if (begin < 0 || end < begin) throw new Error(`docs/security.md must contain the markers ${MATRIX_BEGIN} and ${MATRIX_END}`);
  return `${doc.slice(0, begin)}${MATRIX_BEGIN}\n${renderAccessMatrix()}\n${doc.slice(end)}`;
}
