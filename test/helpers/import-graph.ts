/**
 * The import graph of the app's sources, read with the TypeScript compiler's own pre-processor
 * (`ts.preProcessFile`): it lists every static import, `import type`, `export … from` and dynamic `import()`
 * exactly as tsc sees them, without type-checking, so the whole tree reads in well under a second.
 * Svelte components contribute the imports of their `<script>` blocks.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  /** Importing file, relative to the repository root with `/` separators. */
  from: string;
  /** Imported file (relative path) or package name for bare specifiers. */
  to: string;
  /** The specifier as written. */
  specifier: string;
  line: number;
  external: boolean;
  /** `import type …` / `export type … from`: erased from the emitted JavaScript. */
  typeOnly: boolean;
  /** `static` import/export, `dynamic` import(), or CommonJS `require`. */
  kind: 'static' | 'dynamic' | 'require';
}

const SOURCE = /\.(ts|mts|mjs|js|svelte)$/;

function listSources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listSources(path));
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The script blocks of a Svelte component, with the markup blanked so line numbers stay true. */
function scriptOf(text: string): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(/(<script\b[^>]*>)([\s\S]*?)<\/script>/g)) {
    const start = m.index + m[1].length;
    out += text.slice(last, start).replace(/[^\n]/g, ' ') + m[2];
    last = start + m[2].length;
  }
  return out;
}

function resolveRelative(fromFile: string, specifier: string): string | null {
  const base = resolve(dirname(fromFile), specifier);
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

/** The statement holding a specifier starts at or above its line; `import type` / `export type` say it is erased. */
function isTypeOnly(lines: string[], line: number): boolean {
  for (let i = line - 1; i >= 0; i--) {
    if (/^\s*(import|export)\b/.test(lines[i])) return /^\s*(import|export)\s+type\b/.test(lines[i]);
    if (/import\(/.test(lines[i])) return false;
  }
  return false;
}

export function importGraph(root: string, dirs: string[]): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of dirs.flatMap((d) => listSources(join(root, d)))) {
    const raw = readFileSync(file, 'utf8');
    const text = file.endsWith('.svelte') ? scriptOf(raw) : raw;
    const info = ts.preProcessFile(text, true, true);
    const from = relative(root, file).split('\\').join('/');
    const lines = text.split('\n');
    for (const ref of info.importedFiles) {
      const specifier = ref.fileName;
      const line = text.slice(0, ref.pos).split('\n').length;
      const before = text.slice(Math.max(0, ref.pos - 16), ref.pos);
      const kind = /require\(\s*['"`]?$/.test(before) ? 'require' : /import\(\s*['"`]?$/.test(before) ? 'dynamic' : 'static';
      const typeOnly = kind === 'static' && isTypeOnly(lines, line);
      if (!specifier.startsWith('.')) {
        edges.push({ from, to: specifier, specifier, line, external: true, typeOnly, kind });
        continue;
      }
      const target = resolveRelative(file, specifier);
      if (!target) throw new Error(`${from}:${line} imports ${specifier}, which does not exist`);
      edges.push({ from, to: relative(root, target).split('\\').join('/'), specifier, line, external: false, typeOnly, kind });
    }
  }
  return edges;
}

/** Every strongly connected group of files (Tarjan), each as one cycle path `a → b → … → a`. */
export function importCycles(edges: ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    if (e.external) continue;
    if (!next.has(e.from)) next.set(e.from, []);
    next.get(e.from)!.push(e.to);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1 || (next.get(v) ?? []).includes(v)) groups.push(group);
    }
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  // Name one concrete loop per group: a shortest path from its first file back to itself.
  return groups.map((group) => {
    const members = new Set(group);
    const start = [...group].sort()[0];
    const previous = new Map<string, string>();
    const queue = [start];
    while (queue.length) {
      const v = queue.shift()!;
      for (const w of next.get(v) ?? []) {
        if (!members.has(w)) continue;
        if (w === start) {
          const path = [start];
          for (let at = v; at !== start; at = previous.get(at)!) path.splice(1, 0, at);
          return [...path, start];
        }
        if (!previous.has(w)) {
          previous.set(w, v);
          queue.push(w);
        }
      }
    }
    return [start, start];
  });
}
