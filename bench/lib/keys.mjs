// API keys for the benchmarks, minted the way a user does: admin login on the gateway, then
// POST /api/v2/api-keys with the ingest:write permission.

async function call(method, url, { token, body } = {}) {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** `n` ingest:write keys, through the gateway at `gateway` (its base URL). */
export async function mintKeys(gateway, adminPassword, n) {
  const login = await call('POST', `${gateway}/api/v2/auth/login`, { body: { username: 'admin', password: adminPassword } });
  if (login.status !== 200) throw new Error(`admin login failed: ${login.status} ${JSON.stringify(login.body)}`);
  const keys = [];
  for (let i = 0; i < n; i++) {
    const created = await call('POST', `${gateway}/api/v2/api-keys`, {
      token: login.body.access_token,
      body: { name: `bench-${Date.now()}-${i}`, permissions: ['ingest:write'] },
    });
    if (created.status !== 201) throw new Error(`creating an API key failed: ${created.status} ${JSON.stringify(created.body)}`);
    keys.push(created.body.key);
  }
  return keys;
}
