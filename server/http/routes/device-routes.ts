import { Router } from 'express';
import { DeviceTokenParams, RegisterDeviceBody } from '../../../protocol/http/devices';
import { auditSource } from '../../audit/audit';
import type { AppContext } from '../../context';
import type { DeviceDirectory } from '../../devices/device-directory';
import { listDevices, registerDevice, unregisterDevice } from '../../devices/device-service';
import { limitUserWrites } from '../../rate-limit/rate-limiter';
import { requireUser, userIdOf } from '../auth-middleware';
import { parseInput } from '../validate';

export function deviceRoutes(ctx: AppContext, devices: DeviceDirectory): Router {
  const router = Router();
  const signedIn = [requireUser(ctx.tokens), limitUserWrites(ctx)];

  router.get('/api/devices', ...signedIn, async (_req, res) => {
    res.json({ devices: await listDevices(ctx, devices, userIdOf(res)) });
  });
  // Also the "app opened" ping: registering again refreshes the token's expiry.
  router.post('/api/devices', ...signedIn, async (req, res) => {
    const body = parseInput(RegisterDeviceBody, req.body, 'body');
    res.json({ device: await registerDevice(ctx, devices, userIdOf(res), body, auditSource(req)) });
  });
  router.delete('/api/devices/:token', ...signedIn, async (req, res) => {
    const { token } = parseInput(DeviceTokenParams, req.params, 'device token');
    await unregisterDevice(ctx, devices, userIdOf(res), token, auditSource(req));
    res.status(204).end();
  });

  return router;
}
