import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AppContext } from '../context';
import type { DynamoClients } from '../storage/dynamo-client';
import { TTL_ATTRIBUTE, tableName } from '../storage/dynamo-tables';

export interface DeviceRecord {
  userId: string;
  token: string;
  platform: 'IOS' | 'ANDROID' | 'WEB';
  appVersion: string | null;
  osVersion: string | null;
  pushEnabled: boolean;
  /** BCP 47 language tag the app reported (pushes are written in it when we have it). */
  locale?: string | null;
  /** Epoch ms of the last registration (the app registers each time it opens). */
  lastSeenAt: number;
  /** Epoch ms after which the token is treated as gone. */
  expiresAt: number;
}

/**
 * The hot copy of push tokens that senders read: DynamoDB's devices table (PK userId, SK token) with a
 * TTL refreshed on every registration, so tokens of uninstalled apps age out on their own. PostgreSQL
 * stays the record; in embedded mode it is the only copy and senders read it instead.
 */
export interface DeviceDirectory {
  put(d: DeviceRecord): Promise<void>;
  remove(userId: string, token: string): Promise<void>;
  /** Unexpired devices of a user. */
  forUser(userId: string, now: number): Promise<DeviceRecord[]>;
  /** How long a token stays deliverable after its app was last opened (DEVICE_TTL_DAYS). */
  readonly ttlMs: number;
}

export class DynamoDeviceDirectory implements DeviceDirectory {
  private readonly table: string;

  constructor(
    private readonly dynamo: DynamoClients,
    prefix: string,
    readonly ttlMs: number,
  ) {
    this.table = tableName(prefix, 'devices');
  }

  async put(d: DeviceRecord): Promise<void> {
    await this.dynamo.doc.send(new PutCommand({ TableName: this.table, Item: { ...d, [TTL_ATTRIBUTE]: Math.ceil(d.expiresAt / 1000) } }));
  }

  async remove(userId: string, token: string): Promise<void> {
    await this.dynamo.doc.send(new DeleteCommand({ TableName: this.table, Key: { userId, token } }));
  }

  async forUser(userId: string, now: number): Promise<DeviceRecord[]> {
    const out = await this.dynamo.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'userId = :u',
        // DynamoDB deletes expired items days late; reads must not trust its TTL.
        FilterExpression: 'expiresAt > :now',
        ExpressionAttributeValues: { ':u': userId, ':now': now },
      }),
    );
    return (out.Items ?? []).map((i) => ({
      userId: String(i.userId),
      token: String(i.token),
      platform: i.platform as DeviceRecord['platform'],
      appVersion: (i.appVersion as string | null | undefined) ?? null,
      osVersion: (i.osVersion as string | null | undefined) ?? null,
      pushEnabled: i.pushEnabled !== false,
      locale: (i.locale as string | null | undefined) ?? null,
      lastSeenAt: Number(i.lastSeenAt),
      expiresAt: Number(i.expiresAt),
    }));
  }
}

/** Embedded mode: PostgreSQL rows are the directory; writes already happened there. */
export class PostgresDeviceDirectory implements DeviceDirectory {
  constructor(
    private readonly ctx: Pick<AppContext, 'db'>,
    readonly ttlMs: number,
  ) {}

  async put(): Promise<void> {}
  async remove(): Promise<void> {}

  async forUser(userId: string, now: number): Promise<DeviceRecord[]> {
    const ttlMs = this.ttlMs;
    const rows = await this.ctx.db.prisma.device.findMany({ where: { userId, lastSeenAt: { gt: new Date(now - ttlMs) } } });
    return rows.map((r) => ({
      userId: r.userId,
      token: r.token,
      platform: r.platform,
      appVersion: r.appVersion,
      osVersion: r.osVersion,
      pushEnabled: r.pushEnabled,
      locale: r.locale,
      lastSeenAt: r.lastSeenAt.getTime(),
      expiresAt: r.lastSeenAt.getTime() + ttlMs,
    }));
  }
}
