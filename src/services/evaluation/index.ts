/** Evaluation of probability forecasts against the betting market: one implementation for the CLI, the registry and tests. */
export * from './metrics';
export * from './bootstrap';
export * from './betting';
export * from './compare';
export * from './report';
export * from './gate';
export * from './two-way';
