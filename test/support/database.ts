import { Client } from 'pg';

/** Drops a test database so a test file starts from an empty schema (migrations then run anew). */
export async function dropDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  if (!/^agentmon_test\d*_/.test(name)) throw new Error(`refusing to drop ${name}: not a test database`);
  target.pathname = '/postgres';
  const client = new Client({ connectionString: target.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
