export * from './errors';
export * from './events';
export * from './schemas';
export * from './http/index';
export * from './http/orders';
