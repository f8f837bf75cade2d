import type { PersonAtVenue, VenuePeopleMessage } from '../../protocol/events';
import { ClientEvent } from '../../protocol/events';
import type { VenuePeopleResponse } from '../../protocol/http/people';
import { api } from '../helpers/auth';
import { emitOk } from '../helpers/socket';
import type { TestClient, TestServer } from '../helpers/test-server';

export const at = (v: { latitude: number; longitude: number }) => ({ lat: v.latitude, lng: v.longitude });

/** What a phone shows: the list it read, with every `venue:people` message applied as the app would. */
export class PhoneList {
  readonly people = new Map<string, PersonAtVenue>();
  readonly messages: VenuePeopleMessage[] = [];

  constructor(
    socket: TestClient,
    readonly venueId: string,
  ) {
    socket.on('venue:people', (m) => {
      if (m.venueId !== this.venueId) return;
      this.messages.push(m);
      for (const c of m.changes) {
        if (c.type === 'upsert') this.people.set(c.person.userId, c.person);
        else this.people.delete(c.userId);
      }
    });
  }

  load(list: VenuePeopleResponse): void {
    for (const p of list.people) this.people.set(p.userId, p);
  }

  ids(): string[] {
    return [...this.people.keys()].sort();
  }

  changesAbout(userId: string) {
    return this.messages.flatMap((m) => m.changes).filter((c) => (c.type === 'upsert' ? c.person.userId : c.userId) === userId);
  }
}

export async function peopleAt(ts: Pick<TestServer, 'url'>, token: string, venueId: string, query = '') {
  return api(ts, token).get(`/api/venues/${venueId}/people${query}`);
}

/** Connects a user's phone, starts following its list, checks in and reads the list, as the app does. */
export async function arrive(
  ts: TestServer,
  user: { token: string },
  venue: { id: string; latitude: number; longitude: number },
  flags: { wantsToBuy?: boolean; wantsToReceive?: boolean; visible?: boolean } = {},
) {
  const socket = await ts.connect(user.token);
  const list = new PhoneList(socket, venue.id);
  await emitOk(socket, ClientEvent.CheckIn, { venueId: venue.id, ...at(venue), ...flags });
  const res = await peopleAt(ts, user.token, venue.id);
  if (res.status !== 200) throw new Error(`people list: ${res.status} ${JSON.stringify(res.body)}`);
  list.load(res.body as VenuePeopleResponse);
  return { socket, list };
}
