/** A small Dockerfile reader: instructions (continuation lines joined, comments dropped) and stages. */
export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}
export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

export function dockerfileInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      line = line.slice(0, -1);
      i++;
      const next = lines[i]!.trim();
      if (!next.startsWith('#')) line += ' ' + next;
    }
    const m = /^(\S+)\s*(.*)$/s.exec(line)!;
    out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.replace(/\s+/g, ' ').trim(), line: start + 1 });
  }
  return out;
}

export function dockerfileStages(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const ins of dockerfileInstructions(text)) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`line ${ins.line}: cannot read FROM ${ins.args}`);
      stages.push({ from: m[1]!, name: m[2] ?? `#${stages.length}`, instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1]!.instructions.push(ins);
    }
  }
  return stages;
}

/** The instructions a stage runs, its ancestors' first (FROM <stage> inherits). */
export function effectiveInstructions(stages: Stage[], name: string): Instruction[] {
  const stage = stages.find((s) => s.name === name);
  if (!stage) return [];
  return [...effectiveInstructions(stages, stage.from), ...stage.instructions];
}

/** The image a stage finally starts from, following FROM <stage> chains and ARG defaults. */
export function baseImage(text: string, name: string): string {
  const stages = dockerfileStages(text);
  const args = Object.fromEntries(
    dockerfileInstructions(text)
      .filter((i) => i.keyword === 'ARG' && i.args.includes('='))
      .map((i) => i.args.split('=') as [string, string]),
  );
  let from = name;
  for (let s = stages.find((x) => x.name === from); s; s = stages.find((x) => x.name === from)) from = s.from;
  return from.replace(/^\$\{?(\w+)\}?$/, (_m, v: string) => args[v] ?? `\${${v}}`);
}

/**
 * What a runtime target must be: unprivileged (a numeric, non-zero USER), NODE_ENV=production,
 * Next.js telemetry off, a port, an exec-form CMD, and no HEALTHCHECK (Kubernetes probes instead).
 * Returns the problems found; empty when the target is right.
 */
export function runtimeTargetProblems(text: string, target: string, expected: { port: number; cmd: string[] }): string[] {
  const stages = dockerfileStages(text);
  if (!stages.some((s) => s.name === target)) return [`no stage named ${target}`];
  const problems: string[] = [];
  const ins = effectiveInstructions(stages, target);
  const last = (k: string) => [...ins].reverse().find((i) => i.keyword === k);
  const user = last('USER');
  if (!user) problems.push(`${target}: no USER (it would run as root)`);
  else if (!/^[1-9]\d*(:\d+)?$/.test(user.args)) problems.push(`${target}: USER ${user.args} is not a numeric non-root uid (runAsNonRoot needs one)`);
  const env = ins.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ');
  if (!/\bNODE_ENV=production\b/.test(env)) problems.push(`${target}: NODE_ENV=production is not set`);
  if (!/\bNEXT_TELEMETRY_DISABLED=1\b/.test(env)) problems.push(`${target}: NEXT_TELEMETRY_DISABLED=1 is not set`);
  if (!new RegExp(`\\bPORT=${expected.port}\\b`).test(env)) problems.push(`${target}: PORT=${expected.port} is not set`);
  const expose = last('EXPOSE');
  if (expose?.args !== String(expected.port)) problems.push(`${target}: EXPOSE ${expose?.args ?? '(none)'} instead of ${expected.port}`);
  const cmd = last('CMD');
  let parsed: unknown;
  try {
    parsed = cmd ? JSON.parse(cmd.args) : undefined;
  } catch {
    parsed = undefined;
  }
  if (JSON.stringify(parsed) !== JSON.stringify(expected.cmd)) problems.push(`${target}: CMD ${cmd?.args ?? '(none)'} instead of ${JSON.stringify(expected.cmd)}`);
  if (ins.some((i) => i.keyword === 'HEALTHCHECK' && !/^NONE$/i.test(i.args))) problems.push(`${target}: has a HEALTHCHECK`);
  return problems;
}
