// The feature store: team, head-to-head and league states persisted in Postgres (migration 0011), advanced as
// results become known (advance.ts) and read by serving a match at a time (repository.ts).
export * from './advance';
export * from './repository';
