import { aws_ecr_assets as ecrAssets } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/**
 * The project's own Dockerfile, built by `cdk deploy` and pushed to the bootstrap ECR repository. The
 * tag is the hash of the build context, so both stacks that use it (migration and service) name the
 * same image, a code change is a new image, and redeploying an older commit brings its image back.
 * Beyond .dockerignore, the infra code and its tests stay out of the context: changing the stack alone
 * must not rebuild or roll the service.
 */
export function serverImage(scope: Construct, directory: string): ecrAssets.DockerImageAsset {
  return new ecrAssets.DockerImageAsset(scope, 'ServerImage', {
    directory,
    platform: ecrAssets.Platform.LINUX_AMD64,
    exclude: ['infra', 'test/infra', 'cdk.out', '.cache', '.git', 'node_modules'],
  });
}
