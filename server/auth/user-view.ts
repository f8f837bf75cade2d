import type { UserView } from '../../protocol/http/auth';
import type { OAuthProvider } from '../../protocol/http/auth';

/** The User column holding each provider's subject id. */
export const providerColumn = {
  google: 'googleId',
  apple: 'appleId',
  facebook: 'facebookId',
  instagram: 'instagramId',
  tiktok: 'tiktokId',
  snapchat: 'snapchatId',
  twitter: 'twitterId',
} as const satisfies Record<OAuthProvider, string>;
export type ProviderColumn = (typeof providerColumn)[OAuthProvider];

type UserRow = {
  id: string;
  displayName: string;
  email: string | null;
  phone: string | null;
  emailVerified: boolean;
  phoneVerified: boolean;
  profileImageUrl: string | null;
  bio: string | null;
} & Record<ProviderColumn, string | null>;

export function toUserView(u: UserRow): UserView {
  return {
    id: u.id,
    displayName: u.displayName,
    email: u.email,
    phone: u.phone,
    emailVerified: u.emailVerified,
    phoneVerified: u.phoneVerified,
    profileImageUrl: u.profileImageUrl,
    bio: u.bio,
    providers: (Object.keys(providerColumn) as OAuthProvider[]).filter((p) => u[providerColumn[p]] !== null),
  };
}

/** A first display name from an email's local part; the user can change it later. */
export function nameFromEmail(email: string): string {
  const local = email.split('@')[0] ?? 'Guest';
  return (
    local
      .replace(/[._+-]+/g, ' ')
      .trim()
      .slice(0, 60) || 'Guest'
  );
}
