// The feature stores: per sport, the states behind its features persisted in Postgres (migrations 0011, 0016),
// advanced as results become known (advance.ts, basketball.ts, stores.ts) and read by serving a match at a time
// (repository.ts).
export * from './advance';
export * from './basketball';
export * from './stores';
export * from './repository';
