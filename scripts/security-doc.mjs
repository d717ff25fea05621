#!/usr/bin/env node
// docs/security.md carries the route access matrix generated from test/e2e/access-matrix.ts, the
// same table the access-matrix end-to-end test checks against the running gateway.
//   node scripts/security-doc.mjs          rewrites the matrix in docs/security.md
//   node scripts/security-doc.mjs --check  exits 1 when docs/security.md is stale (npm test runs this)
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { transformFileSync } from '@swc/core';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const TABLE = path.join(ROOT, 'test', 'e2e', 'access-matrix.ts');
const DOC = path.join(ROOT, 'docs', 'security.md');

/** The table module, compiled on its own (it imports nothing). */
export async function loadAccessMatrix() {
  const { code } = transformFileSync(TABLE, { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' }, sourceMaps: false });
  const file = path.join(tmpdir(), `agentmon-access-matrix-${process.pid}-${Date.now()}.mjs`);
  writeFileSync(file, code);
  try {
    return await import(pathToFileURL(file).href);
  } finally {
    rmSync(file, { force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const check = process.argv.includes('--check');
  const { withMatrix } = await loadAccessMatrix();
  const current = readFileSync(DOC, 'utf8');
  const next = withMatrix(current);
  if (check) {
    if (next !== current) {
      process.stderr.write('docs/security.md is stale: its access matrix differs from test/e2e/access-matrix.ts; run `node scripts/security-doc.mjs`\n');
      process.exit(1);
    }
    process.stdout.write('docs/security.md matches test/e2e/access-matrix.ts\n');
  } else if (next !== current) {
    writeFileSync(DOC, next);
    process.stdout.write('docs/security.md: access matrix rewritten\n');
  } else process.stdout.write('docs/security.md is up to date\n');
}
