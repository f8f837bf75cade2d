import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';

type Bindings = typeof import('@prisma/schema-engine-wasm/schema_engine_bg');

let bindings: Promise<Bindings> | undefined;

/**
 * The package's entry does `import * as wasm from "./x.wasm"`, which Node only allows behind
 * --experimental-wasm-modules. Instantiating the module by hand lets the server (tsx) and vitest
 * apply migrations without that flag.
 */
function loadBindings(): Promise<Bindings> {
  bindings ??= (async () => {
    const bg: Bindings = await import('@prisma/schema-engine-wasm/schema_engine_bg');
    const wasmPath = createRequire(import.meta.url)
      .resolve('@prisma/schema-engine-wasm/schema_engine_bg')
      .replace(/schema_engine_bg\.js$/, 'schema_engine_bg.wasm');
    const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), {
      './schema_engine_bg.js': bg as unknown as WebAssembly.ModuleImports,
    });
    const exports = instance.exports as WebAssembly.Exports & { __wbindgen_start(): void };
    (bg as unknown as { __wbg_set_wasm(w: unknown): void }).__wbg_set_wasm(exports);
    exports.__wbindgen_start();
    return bg;
  })();
  return bindings;
}

const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;

type Patchable = {
  adapterName?: string;
  client?: { exec?: (script: string) => Promise<unknown> };
  performIO?: (query: unknown) => Promise<{ fields?: { dataTypeID: number }[] }>;
  executeScript?: (script: string) => Promise<void>;
};

/**
 * Two driver-adapter gaps the schema engine trips over (the application's PrismaClient never
 * uses these connections, so it is untouched).
 * The engine's describer selects catalog columns of PostgreSQL's one-byte `"char"` type
 * (pg_class.relkind and friends), which both driver adapters reject as unsupported. Their values
 * arrive as plain strings, so reporting them as text is exact.
 */
function patchForEngine<T>(adapter: T): T {
  const target = adapter as Patchable;
  const exec = target.client?.exec?.bind(target.client);
  // pglite-prisma-adapter 0.7 fires `client.exec(script)` without awaiting it, so a failing
  // migration would be recorded as applied; awaiting it lets the engine see the error.
  if (target.adapterName?.includes('pglite') && exec) {
    target.executeScript = async (script) => {
      await exec(script);
    };
  }
  const performIO = target.performIO?.bind(adapter);
  if (!performIO) return adapter;
  target.performIO = async (query) => {
    const result = await performIO(query);
    for (const field of result?.fields ?? []) {
      if (field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
    }
    return result;
  };
  return adapter;
}

function forSchemaEngine(factory: SqlMigrationAwareDriverAdapterFactory): SqlMigrationAwareDriverAdapterFactory {
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => patchForEngine(await factory.connect()),
    connectToShadowDb: async () => patchForEngine(await factory.connectToShadowDb()),
  };
}

/** A schema engine talking to the database behind `adapter`; free() it when done. */
export async function createSchemaEngine(
  adapter: SqlMigrationAwareDriverAdapterFactory,
  datamodel?: { path: string; content: string },
): Promise<SchemaEngine> {
  const { SchemaEngine } = await loadBindings();
  const log = (_message: string) => {};
  return SchemaEngine.new(
    { datamodels: datamodel ? [[datamodel.path, datamodel.content]] : undefined },
    log,
    bindMigrationAwareSqlAdapterFactory(forSchemaEngine(adapter)),
  );
}
