#!/usr/bin/env bash
# One deploy of one environment, in the order that keeps the running version safe:
#   1. the platform stack (network, stores, secrets, and the migration task definition with the NEW image),
#   2. the migration task, once, to completion (db:migrate, then dynamo:tables); stop here if it fails,
#   3. the service stack (rolling update of the API; ECS rolls back by itself if new tasks never get healthy).
# Usage: infra/deploy.sh dev|prod [extra cdk args, e.g. -c certificateArn=arn:aws:acm:… -c stripe=true]
# Needs AWS credentials, Docker (the image is built from the Dockerfile) and a bootstrapped account/region.
set -euo pipefail
cd "$(dirname "$0")/.."
env="${1:?usage: infra/deploy.sh dev|prod [cdk args]}"
shift
platform="TreatMe-${env}-platform"
service="TreatMe-${env}-service"
outputs="$(mktemp)"
trap 'rm -f "$outputs"' EXIT

npx cdk deploy "$platform" --exclusively -c env="$env" "$@" --require-approval never --outputs-file "$outputs"
read -r cluster taskdef subnets sg < <(node -e '
  const o = require(process.argv[1])[process.argv[2]];
  console.log(o.ClusterName, o.MigrationTaskDefinition, o.AppSubnets, o.MigrationSecurityGroup);
' "$outputs" "$platform")

echo "== migration task on ${cluster}"
task="$(aws ecs run-task --cluster "$cluster" --task-definition "$taskdef" --launch-type FARGATE \
  --network-configuration "awsvpcConfiguration={subnets=[${subnets}],securityGroups=[${sg}],assignPublicIp=DISABLED}" \
  --query 'tasks[0].taskArn' --output text)"
aws ecs wait tasks-stopped --cluster "$cluster" --tasks "$task"
code="$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" --query 'tasks[0].containers[0].exitCode' --output text)"
if [ "$code" != "0" ]; then
  echo "migration task exited with ${code}: not rolling out (logs: the platform stack's MigrationLogs group)" >&2
  exit 1
fi

npx cdk deploy "$service" --exclusively -c env="$env" "$@" --require-approval never
