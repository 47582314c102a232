export { FAULT_MODES, startOddsApiStandin, type Fault, type FaultMode, type OddsApiStandin, type OddsApiStandinOptions } from './server';
export { DEFAULT_DIVISIONS, loadSeason, quoteMarket, replayEventId, sportInfo, type ReplayEvent } from './season';
