import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { ruleFor, type ImportRule } from './import-rules';

const ROOT = join(__dirname, '..', '..', '..');
const SOURCE_ROOTS = ['src', 'sip', 'rtp', 'storage'];

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) sourceFiles(full, out);
    else if (name.endsWith('.ts')) out.push(full);
  }
  return out;
}

interface ImportLine {
  specifier: string;
  typeOnly: boolean;
  line: number;
}

/** Static imports, re-exports and require() calls of a TypeScript file. */
export function importsOf(text: string): ImportLine[] {
  const out: ImportLine[] = [];
  const lines = text.split('\n');
  const pattern = /^\s*(import|export)\s+(type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/;
  const requirePattern = /require\(\s*['"]([^'"]+)['"]\s*\)/;
  lines.forEach((lineText, index) => {
    const match = pattern.exec(lineText);
    if (match) out.push({ specifier: match[3]!, typeOnly: Boolean(match[2]), line: index + 1 });
    const req = requirePattern.exec(lineText);
    if (req) out.push({ specifier: req[1]!, typeOnly: false, line: index + 1 });
  });
  // Multi-line imports: `import {\n a,\n} from '...'`
  const multi = /(import|export)\s+(type\s+)?\{[^}]*\}\s*from\s*['"]([^'"]+)['"]/g;
  for (const match of text.matchAll(multi)) {
    const line = text.slice(0, match.index).split('\n').length;
    if (!out.some((i) => i.specifier === match[3] && i.line === line)) out.push({ specifier: match[3]!, typeOnly: Boolean(match[2]), line });
  }
  return out;
}

function violation(file: string, rule: ImportRule, imp: ImportLine): string | undefined {
  if (imp.specifier.startsWith('.')) {
    const target = relative(ROOT, normalize(join(dirname(join(ROOT, file)), imp.specifier))).replaceAll('\\', '/');
    const own = rule.from;
    if (target === own || target.startsWith(`${own}/`)) return undefined;
    if (rule.mayImport.some((allowed) => target === allowed || target.startsWith(`${allowed}/`))) return undefined;
    if (imp.typeOnly && rule.typeOnly?.some((allowed) => target === allowed || target.startsWith(`${allowed}/`))) return undefined;
    return `${file}:${imp.line} imports ${target}: ${rule.from} may not (${rule.why})`;
  }
  const forbidden = rule.forbiddenModules?.find((m) => imp.specifier === m || imp.specifier.startsWith(`${m}/`));
  if (forbidden) return `${file}:${imp.line} imports ${imp.specifier}: ${rule.from} may not (${rule.why})`;
  return undefined;
}

test('every source file imports only what its layer may (DESIGN.md import rules)', () => {
  const problems: string[] = [];
  let checked = 0;
  for (const root of SOURCE_ROOTS) {
    let files: string[] = [];
    try {
      files = sourceFiles(join(ROOT, root));
    } catch {
      continue;
    }
    for (const full of files) {
      const file = relative(ROOT, full).replaceAll('\\', '/');
      const rule = ruleFor(file);
      if (!rule) {
        problems.push(`${file}: no import rule covers this folder; add one to test/architecture/import-rules.ts`);
        continue;
      }
      for (const imp of importsOf(readFileSync(full, 'utf8'))) {
        const problem = violation(file, rule, imp);
        if (problem) problems.push(problem);
      }
      checked++;
    }
  }
  assert.ok(checked > 10, 'the lint must see the source tree');
  assert.deepEqual(problems, []);
});

test('the lint catches a forbidden import (it can fail)', () => {
  const rule = ruleFor('src/hub/stream.ts')!;
  const imports = importsOf("import { RtmpServer } from '../protocols/rtmp/server';\nimport { createSocket } from 'node:dgram';\n");
  const problems = imports.map((imp) => violation('src/hub/stream.ts', rule, imp)).filter(Boolean);
  assert.equal(problems.length, 2);
  assert.match(problems[0]!, /must not know any protocol/);
  const api = ruleFor('src/api/streams.ts')!;
  assert.equal(violation('src/api/streams.ts', api, { specifier: '../hub/registry', typeOnly: true, line: 1 }), undefined);
  assert.ok(violation('src/api/streams.ts', api, { specifier: '../hub/registry', typeOnly: false, line: 1 }));
});
