// "No secret in any log": after the end-to-end and browser tests, every log file of the run is
// searched for every secret the tests used (recorded by test/support/secret-record.ts) and for the
// profile's own keys (secrets.json). A finding names the secret's label and the file, never the value.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** Ways a secret may be written down: as it is, inside a JSON string, URL-encoded. */
function forms(value) {
  const out = new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]);
  return [...out].filter((f) => f.length >= 8);
}

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    const st = statSync(full);
    return st.isDirectory() ? filesUnder(full) : st.isFile() ? [full] : [];
  });
}

/**
 * @param {{ logDir: string, secretsFile: string, secretsJson?: string, minRecorded?: number }} opts
 * @returns {{ ok: boolean, checked: number, files: number, problems: string[] }}
 */
export function scanLogsForSecrets({ logDir, secretsFile, secretsJson, minRecorded = 5 }) {
  const problems = [];
  const secrets = [];
  if (existsSync(secretsFile)) {
    for (const line of readFileSync(secretsFile, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const { label, value } = JSON.parse(line);
      if (typeof value === 'string' && value.length >= 8) secrets.push({ label, value });
    }
  }
  if (secrets.length < minRecorded) {
    problems.push(`only ${secrets.length} secrets were recorded in ${secretsFile} (at least ${minRecorded} expected): the check would prove nothing`);
  }
  if (secretsJson && existsSync(secretsJson)) {
    for (const [name, value] of Object.entries(JSON.parse(readFileSync(secretsJson, 'utf8')))) {
      if (typeof value !== 'string' || value.length < 8) continue;
      secrets.push({ label: `${name} (secrets.json)`, value });
      // an encryption key may also leak as the hex of its bytes
      if (/KEY$/.test(name)) secrets.push({ label: `${name} (secrets.json, as hex)`, value: Buffer.from(value, 'base64').toString('hex') });
    }
  }
  const unique = [...new Map(secrets.map((s) => [s.value, s])).values()];
  secrets.length = 0;
  secrets.push(...unique);
  const files = filesUnder(logDir);
  if (files.length === 0) problems.push(`no log files in ${logDir}`);
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const { label, value } of secrets) {
      if (forms(value).some((f) => text.includes(f))) problems.push(`${label} appears in ${path.relative(path.dirname(logDir), file)}`);
    }
  }
  return { ok: problems.length === 0, checked: secrets.length, files: files.length, problems };
}
