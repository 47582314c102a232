// The one feature builder: pure TypeScript (no Node or Worker APIs), shared by the Worker and the training
// export so that serving and training compute the same vector. The formulas: docs/feature-engineering-spec.md.
export * from './names';
export * from './odds';
export * from './state';
export * from './build';
export * from './timeline';
