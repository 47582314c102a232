export { FAULT_MODES, startOddsApiStandin, type Fault, type FaultMode, type OddsApiStandin, type OddsApiStandinOptions } from './server';
export { DEFAULT_NBA_SEASON, loadNbaSeason, NBA_BOOKMAKER_KEYS, NBA_DIVISION, nbaTipOff } from './nba';
export {
  alignedTimeline,
  DEFAULT_DIVISIONS,
  liveTimeline,
  loadSeason,
  onTimeline,
  quoteMarket,
  replayEventId,
  sportInfo,
  toRealTime,
  type ReplayEvent,
  type ReplayTimeline,
} from './season';
