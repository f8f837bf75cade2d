import type { PresenceView } from '../../protocol/events';
import type { PresenceRecord } from '../presence/presence-store';

export function toPresenceView(p: PresenceRecord): PresenceView {
  return {
    venueId: p.venueId,
    checkedInAt: new Date(p.checkedInAt).toISOString(),
    expiresAt: new Date(p.expiresAt).toISOString(),
    wantsToBuy: p.wantsToBuy,
    wantsToReceive: p.wantsToReceive,
    visible: p.visible,
  };
}
