// ESLint rule: the module boundaries that Nx project tags declare.
//   type:app        (a service or the dashboard) may import type:util and type:contracts only;
//                   never another app, whatever its scope
//   type:util       may import type:util and type:contracts
//   type:contracts  may import nothing of the workspace
// Projects are found from their project.json; an import is resolved to the project whose root
// contains the imported file (relative paths) or whose package name it names (@agentmon/x).
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const ALLOWED = {
  'type:app': ['type:util', 'type:contracts'],
  'type:util': ['type:util', 'type:contracts'],
  'type:contracts': [],
};

function loadProjects() {
  const projects = [];
  for (const dir of ['libs', 'services']) {
    for (const name of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      if (name.isDirectory()) projects.push(path.join(ROOT, dir, name.name));
    }
  }
  projects.push(path.join(ROOT, 'web'));
  return projects
    .filter((root) => existsSync(path.join(root, 'project.json')))
    .map((root) => {
      const pj = JSON.parse(readFileSync(path.join(root, 'project.json'), 'utf8'));
      const pkg = existsSync(path.join(root, 'package.json')) ? JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) : {};
      return { root, name: pj.name, pkg: pkg.name, tags: pj.tags ?? [] };
    });
}

let cache;
const projects = () => (cache ??= loadProjects());
const projectOfFile = (file) => projects().find((p) => file === p.root || file.startsWith(p.root + path.sep));
const typeOf = (p) => p.tags.find((t) => t.startsWith('type:'));

export default {
  rules: {
    'enforce-module-boundaries': {
      meta: { type: 'problem', schema: [], messages: { forbidden: '{{from}} ({{fromType}}) must not import {{to}} ({{toType}}): {{why}}' } },
      create(context) {
        const file = context.filename ?? context.getFilename();
        const from = projectOfFile(path.resolve(file));
        if (!from) return {};
        const check = (node, source) => {
          if (typeof source !== 'string') return;
          let to;
          if (source.startsWith('.')) to = projectOfFile(path.resolve(path.dirname(file), source));
          else to = projects().find((p) => p.pkg && (source === p.pkg || source.startsWith(p.pkg + '/')));
          if (!to || to === from) return;
          // tests may reach the shared test support folder, which is no project
          const fromType = typeOf(from);
          const toType = typeOf(to);
          const ok = (ALLOWED[fromType] ?? []).includes(toType);
          if (!ok) {
            context.report({
              node,
              messageId: 'forbidden',
              data: {
                from: from.name,
                fromType: fromType ?? 'untagged',
                to: to.name,
                toType: toType ?? 'untagged',
                why: toType === 'type:app' ? 'services talk over NATS, never through code' : 'not allowed by the project tags',
              },
            });
          }
        };
        return {
          ImportDeclaration: (node) => check(node, node.source.value),
          ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
          ExportAllDeclaration: (node) => check(node, node.source.value),
          ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
        };
      },
    },
  },
};
