import type { OneTimeCodes } from './auth/codes/one-time-codes';
import { buildOneTimeCodes } from './auth/codes/one-time-codes';
import type { AppContext } from './context';
import { buildPushSender } from './devices/build-push-sender';
import { buildDeviceDirectory, type DeviceDirectory } from './devices/device-directory';
import type { PushSender } from './devices/push-sender';
import type { Stoppable } from './lib/job';
import { buildOrders, type Orders } from './orders/orders-module';

/**
 * The services that own something (a provider connection, a retry queue, an SMTP pool) or that
 * several features share, each built exactly once here, in dependency order. Features receive the
 * ones they use as arguments; tests reach them through `RunningServer.services`.
 */
export interface Services {
  devices: DeviceDirectory;
  push: PushSender;
  codes: OneTimeCodes;
  orders: Orders;
}

export interface BuiltServices {
  services: Services;
  /** In build order; the composition root stops them in reverse. */
  stoppables: Stoppable[];
}

export function buildServices(ctx: AppContext): BuiltServices {
  const devices = buildDeviceDirectory(ctx);
  const push = buildPushSender(ctx, devices);
  const codes = buildOneTimeCodes(ctx);
  const orders = buildOrders(ctx, { push: push.sender });
  return {
    services: { devices, push: push.sender, codes: codes.codes, orders },
    stoppables: [...push.stoppables, ...codes.stoppables],
  };
}
