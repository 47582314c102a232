// The odds module: plain functions over bookmakers' prices, shared by the Worker, the MatchOdds object, the
// training export, settlement and the evaluation. No I/O, no Worker or Node APIs.
export * from './margin';
export * from './anchor';
export * from './prices';
export * from './live';
export * from './american';
export * from './grading';
