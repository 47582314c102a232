export * from './object-store';
export * from './mirror';
export * from './config';
