import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
// Generated code (the Prisma client) is not ours to untangle.
const skipped = new Set([join(root, 'server/generated')]);

function sourceFiles(dir: string): string[] {
  if (skipped.has(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** A relative specifier to the file it names, as the bundler resolution in tsconfig does. */
function resolveSpecifier(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  const candidates = [base, `${base}.ts`, join(base, 'index.ts')];
  if (base.endsWith('.js')) candidates.push(base.replace(/\.js$/, '.ts'));
  return candidates.find((c) => c.endsWith('.ts') && existsSync(c));
}

/**
 * Every import counts, type-only ones too: a type that points back at its importer is the same
 * tangle for a reader (and for whoever moves either file), even if it vanishes at run time.
 */
function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = info.importedFiles
      .map((ref) => resolveSpecifier(file, ref.fileName))
      .filter((t): t is string => t !== undefined && known.has(t));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Tarjan's strongly connected components; every component of more than one file is a cycle. */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indices.get(w)!));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component);
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return found.map((c) => c.map((f) => relative(root, f)).sort());
}

describe('import structure', () => {
  const files = [...sourceFiles(join(root, 'server')), ...sourceFiles(join(root, 'protocol'))];

  it('reads the whole tree', () => {
    expect(files.length).toBeGreaterThan(100);
    // The resolver must see the edges a cycle is made of, or "no cycles" proves nothing.
    const graph = importGraph(files);
    expect(graph.get(join(root, 'server/build-server.ts'))).toContain(join(root, 'server/features.ts'));
  });

  it('has no import cycle under server/ and protocol/', () => {
    const graph = importGraph(files);
    // Each cycle as the imports inside it, so a failure says which line to move.
    const found = cycles(graph).map((component) => {
      const inside = new Set(component);
      return component.flatMap((from) =>
        (graph.get(join(root, from)) ?? [])
          .map((to) => relative(root, to))
          .filter((to) => inside.has(to))
          .map((to) => `${from} -> ${to}`),
      );
    });
    expect(found).toEqual([]);
  });

  it('lets the pages (web/) import from protocol/ only, never from the server tree', () => {
    const pages = sourceFiles(join(root, 'web'));
    expect(pages.length).toBeGreaterThan(0);
    const intoServer = pages.flatMap((file) =>
      ts
        .preProcessFile(readFileSync(file, 'utf8'), true, true)
        .importedFiles.map((ref) => resolveSpecifier(file, ref.fileName))
        .filter((t): t is string => t !== undefined && t.startsWith(join(root, 'server') + '/'))
        .map((t) => `${relative(root, file)} -> ${relative(root, t)}`),
    );
    expect(intoServer).toEqual([]);
  });
});
