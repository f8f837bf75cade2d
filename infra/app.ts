/** The CDK app (cdk.json runs this): `npx cdk deploy -c env=dev|prod …`; see README "Deploying to AWS". */
import { buildApp } from './build-app';

buildApp().app.synth();
