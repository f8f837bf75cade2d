import { z } from 'zod';
import type { OrderView, RedemptionView } from '../events';
import { Id } from '../schemas';
import type { HttpOperation } from './operation';
import { OrderViewSchema, RedemptionViewSchema } from './orders';

/** A venue the signed-in user works at (what a tablet offers to join). */
export interface StaffVenue {
  id: string;
  slug: string;
  name: string;
  address: string | null;
  role: string;
}

export interface StaffVenuesResponse {
  venues: StaffVenue[];
}

/** An order the bar may still have to pour, with the names a bartender calls out. */
export interface StaffOrderEntry {
  order: OrderView;
  redemption: RedemptionView | null;
  buyerName: string;
  recipientName: string;
}

export interface StaffOrdersResponse {
  venueId: string;
  orders: StaffOrderEntry[];
}

/** What a bartender tablet reads over REST (server/http/routes/staff-order-routes.ts serves it). */
export const StaffVenueSchema = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  address: z.string().nullable(),
  role: z.string(),
});
export const StaffVenuesResponseSchema = z.object({ venues: z.array(StaffVenueSchema) });
export const StaffOrdersResponseSchema = z.object({
  venueId: z.string(),
  orders: z.array(
    z.object({ order: OrderViewSchema, redemption: RedemptionViewSchema.nullable(), buyerName: z.string(), recipientName: z.string() }),
  ),
});

/** Dev mode only: the staff accounts a tablet can sign in as with the dev sign-in (the demo seed's). */
export const DevStaffAccountsResponse = z.object({
  accounts: z.array(z.object({ venueId: z.string(), venue: z.string(), slug: z.string(), email: z.string() })),
});
export type DevStaffAccountsResponse = z.infer<typeof DevStaffAccountsResponse>;

const VenueIdPath = z.strictObject({ id: Id });

export const staffOperations: HttpOperation[] = [
  {
    method: 'get',
    path: '/api/staff/venues',
    summary: 'Venues the signed-in user works at (what a tablet offers to join)',
    tag: 'staff',
    auth: 'required',
    responses: { 200: StaffVenuesResponseSchema },
  },
  {
    method: 'get',
    path: '/api/staff/venues/{id}/orders',
    summary: "A venue's open (paid or accepted, unexpired) orders, for its staff",
    tag: 'staff',
    auth: 'required',
    params: VenueIdPath,
    responses: { 200: StaffOrdersResponseSchema },
  },
  {
    method: 'get',
    path: '/api/dev/staff-accounts',
    summary: "Dev mode only: each venue's staff e-mail for the dev sign-in",
    tag: 'staff',
    auth: 'none',
    devOnly: true,
    responses: { 200: DevStaffAccountsResponse },
  },
];
