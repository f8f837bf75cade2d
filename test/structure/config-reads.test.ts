import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const server = join(root, 'server');
const configDir = join(server, 'config');

/**
 * The composition root: the only files that read the config (and pick implementations from it).
 * Everything else under server/ is handed its own small settings object.
 */
const compositionRoot = new Set(['main.ts', 'build-server.ts', 'services.ts', 'features.ts', 'settings.ts'].map((f) => join(server, f)));
/** The AWS SDK's own credential chain reads these; they are not TreatMe settings. */
const envReadsAllowed = new Map([[join(server, 'storage/dynamo-client.ts'), 'AWS credentials for DynamoDB Local']]);

function sourceFiles(dir: string): string[] {
  if (dir === join(server, 'generated') || dir === configDir) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** What in one file reads the config: an import of server/config/, a `.config` property, `process.env`. */
function configReads(file: string, text = readFileSync(file, 'utf8')): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const at = (node: ts.Node) => `${relative(root, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      const spec = node.moduleSpecifier.text;
      if (spec.startsWith('.') && resolve(dirname(file), spec).startsWith(`${configDir}/`)) found.push(`${at(node)} imports ${spec}`);
    }
    if (ts.isPropertyAccessExpression(node) && node.name.text === 'config') found.push(`${at(node)} reads ${node.getText()}`);
    if (
      ts.isPropertyAccessExpression(node) &&
      node.name.text === 'env' &&
      node.expression.getText() === 'process' &&
      !envReadsAllowed.has(file)
    )
      found.push(`${at(node)} reads process.env`);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('config is read only by the composition root', () => {
  const files = sourceFiles(server).filter((f) => !compositionRoot.has(f));

  it('finds the modules it checks', () => {
    expect(files.length).toBeGreaterThan(100);
    for (const f of compositionRoot) expect(statSync(f).isFile()).toBe(true);
  });

  it('no module below the root imports server/config/, reads a `.config` property or reads process.env', () => {
    expect(files.flatMap((f) => configReads(f))).toEqual([]);
  });

  it('would notice a module that did', () => {
    const probe = join(server, 'orders', 'order-service.ts');
    const regressed = [
      "import type { Config } from '../config/config';",
      readFileSync(probe, 'utf8'),
      'const currency = (ctx: { config: Config }) => ctx.config.ORDER_CURRENCY;',
      'const port = process.env.PORT;',
    ].join('\n');
    const found = configReads(probe, regressed);
    expect(found.some((f) => f.includes('imports ../config/config'))).toBe(true);
    expect(found.some((f) => f.includes('reads ctx.config'))).toBe(true);
    expect(found.some((f) => f.includes('reads process.env'))).toBe(true);
  });
});
