export * from './common';
export * from './auth';
export * from './venues';
export * from './social';
export * from './devices';
export * from './operations';
export * from './people';
export * from './account';
