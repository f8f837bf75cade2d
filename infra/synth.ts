/**
 * `npm run infra:synth [-- dev|prod …] [--out DIR]`: synthesises each environment's CloudFormation
 * offline (no AWS account, credentials or lookups) into a temporary directory — never into the repo —
 * with cdk-nag's AwsSolutions rules and CDK's CloudFormation schema validation. Exits non-zero on any
 * unacknowledged finding, printing the report.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from './build-app';

const envs: string[] = [];
let out: string | undefined;
for (const args = process.argv.slice(2); args.length > 0;) {
  const arg = args.shift()!;
  if (arg === '--out') out = args.shift();
  else envs.push(arg);
}
out ??= mkdtempSync(join(tmpdir(), 'treatme-cdk-'));
const targets = envs.length > 0 ? envs : ['dev', 'prod'];

let failed = false;
for (const env of targets) {
  const started = Date.now();
  try {
    const { app } = buildApp({ context: { env }, outdir: join(out, env) });
    const assembly = app.synth();
    for (const stack of assembly.stacks) {
      const resources = Object.keys((stack.template as { Resources?: object }).Resources ?? {}).length;
      const warnings = stack.messages.filter((m) => m.level === 'warning').length;
      console.log(`${stack.stackName}: ${resources} resources, ${warnings} warning(s) → ${join(assembly.directory, stack.templateFile)}`);
    }
    console.log(
      `${env}: synthesised and checked (cdk-nag AwsSolutions, CloudFormation schema) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  } catch (err) {
    failed = true;
    console.error(`${env}: synth failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
process.exitCode = failed ? 1 : 0;
