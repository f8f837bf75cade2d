import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aws_s3 as s3 } from 'aws-cdk-lib';
import { afterAll, expect, it } from 'vitest';
import { buildApp } from '../../infra/build-app';

const outdir = mkdtempSync(join(tmpdir(), 'treatme-cdk-nag-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

// The other infra tests rely on "synth succeeded" meaning "cdk-nag found nothing unacknowledged".
// This shows the check is live: one non-compliant resource added to the real app fails its synth,
// and the report names that resource and only that one.
it('an unacknowledged cdk-nag finding fails the synth and is the only finding reported', () => {
  const { app, platform } = buildApp({ context: { env: 'dev' }, outdir, cfnValidation: false });
  new s3.Bucket(platform, 'NonCompliantBucket'); // no SSL enforcement, no access logs
  let report = '';
  try {
    app.synth();
  } catch (err) {
    report = err instanceof Error ? err.message : String(err);
  }
  expect(report).toMatch(/AwsSolutions-S1'/);
  expect(report).toMatch(/AwsSolutions-S10'/);
  const findings = report.split('\n').filter((l) => /^\s+TreatMe-/.test(l));
  expect(findings.length).toBeGreaterThanOrEqual(2);
  for (const line of findings) expect(line).toContain('TreatMe-dev-platform/NonCompliantBucket/');
}, 120_000);
