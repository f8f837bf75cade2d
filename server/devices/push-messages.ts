/** The pushes the app sends, each rendered in the device's language (English when it has none we know). */
export const PushKind = {
  OrderReceived: 'order_received',
  OrderAccepted: 'order_accepted',
  OrderRejected: 'order_rejected',
  OrderRedeemed: 'order_redeemed',
  OrderExpiring: 'order_expiring',
} as const;
export type PushKind = (typeof PushKind)[keyof typeof PushKind];

type Text = { title: string; body: string };
type Table = Record<PushKind, Text>;

const en: Table = {
  order_received: { title: 'You got a drink!', body: 'Someone bought you a drink. Open TreatMe to accept it.' },
  order_accepted: { title: 'Treat accepted', body: 'Your drink was accepted. Cheers!' },
  order_rejected: { title: 'Treat declined', body: 'Your drink offer was declined; the hold on your card is released.' },
  order_redeemed: { title: 'Cheers!', body: 'The drink was served at the bar.' },
  order_expiring: { title: 'Your drink expires soon', body: 'Show your QR code at the bar before it expires.' },
};

const es: Table = {
  order_received: { title: '¡Te invitaron a una copa!', body: 'Alguien te invitó a una copa. Abre TreatMe para aceptarla.' },
  order_accepted: { title: 'Invitación aceptada', body: 'Aceptaron tu copa. ¡Salud!' },
  order_rejected: { title: 'Invitación rechazada', body: 'Rechazaron tu copa; se liberó la retención de tu tarjeta.' },
  order_redeemed: { title: '¡Salud!', body: 'La copa se sirvió en la barra.' },
  order_expiring: { title: 'Tu copa caduca pronto', body: 'Muestra tu código QR en la barra antes de que caduque.' },
};

const de: Table = {
  order_received: {
    title: 'Du hast einen Drink bekommen!',
    body: 'Jemand hat dir einen Drink spendiert. Öffne TreatMe, um ihn anzunehmen.',
  },
  order_accepted: { title: 'Einladung angenommen', body: 'Dein Drink wurde angenommen. Prost!' },
  order_rejected: { title: 'Einladung abgelehnt', body: 'Dein Drink wurde abgelehnt; die Reservierung auf deiner Karte ist freigegeben.' },
  order_redeemed: { title: 'Prost!', body: 'Der Drink wurde an der Bar serviert.' },
  order_expiring: { title: 'Dein Drink läuft bald ab', body: 'Zeig deinen QR-Code an der Bar, bevor er abläuft.' },
};

const tables: Record<string, Table> = { en, es, de };

/** `es-MX`, `es_MX` and `ES` all pick Spanish; anything unknown falls back to English. */
export function pushText(kind: PushKind, locale: string | null | undefined): Text {
  const lang = (locale ?? '').split(/[-_]/)[0]!.toLowerCase();
  return (tables[lang] ?? en)[kind];
}
