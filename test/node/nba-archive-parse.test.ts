// The NBA archive's parser on hand-made rows in the real header's format: the cases the real files have too few
// of to pin down (pick'em, a spread without a side, unreadable lines, spreadsheet artefacts).
import { describe, expect, it } from 'vitest';
import { STANDARD_LINE_PRICE } from '../../src/domain/odds';
import { parseNbaArchiveCsv } from '../../src/providers/nba-archive/parse';

const HEADER =
  'season,date,regular,playoffs,away,home,score_away,score_home,q1_away,q2_away,q3_away,q4_away,ot_away,q1_home,q2_home,q3_home,q4_home,ot_home,whos_favored,spread,total,moneyline_away,moneyline_home,h2_spread,h2_total,id_spread,id_total';
/** A row with the given cells; the quarter columns are left empty (the parser does not read them). */
function row(c: { season?: string; date?: string; away?: string; home?: string; sa?: string; sh?: string; fav?: string; spread?: string; total?: string; mla?: string; mlh?: string }) {
  return [c.season ?? '2022', c.date ?? '2022-01-05', 'True', 'False', c.away ?? 'bos', c.home ?? 'ny', c.sa ?? '100', c.sh ?? '104',
    '', '', '', '', '', '', '', '', '', '', c.fav ?? 'home', c.spread ?? '2.5', c.total ?? '210', c.mla ?? '120', c.mlh ?? '-140', '', '', '1', '0'].join(',');
}
const parse = (...rows: string[]) => parseNbaArchiveCsv([HEADER, ...rows].join('\n') + '\n', 'x.csv');

describe('NBA archive parser', () => {
  it('reads a game: US date at 00:00 UTC, season label, decimal moneylines, signed spreads, totals at -110', () => {
    const { games, rejected, invalidPrices } = parse(row({}));
    expect(rejected).toEqual([]);
    expect(invalidPrices).toEqual([]);
    expect(games).toHaveLength(1);
    const g = games[0]!;
    expect(g).toMatchObject({ line: 2, season: '2021-22', externalId: '2022-01-05:bos@ny', homeCode: 'ny', awayCode: 'bos', homeScore: 104, awayScore: 100, status: 'finished', unreadable: [] });
    expect(g.startAt.toISOString()).toBe('2022-01-05T00:00:00.000Z');
    expect(g.odds).toEqual([
      { market: 'h2h', outcome: 'home', point: null, price: 1 + 100 / 140 },
      { market: 'h2h', outcome: 'away', point: null, price: 2.2 },
      { market: 'spreads', outcome: 'home', point: -2.5, price: STANDARD_LINE_PRICE },
      { market: 'spreads', outcome: 'away', point: 2.5, price: STANDARD_LINE_PRICE },
      { market: 'totals', outcome: 'over', point: 210, price: STANDARD_LINE_PRICE },
      { market: 'totals', outcome: 'under', point: 210, price: STANDARD_LINE_PRICE },
    ]);
  });

  it("gives a pick'em 0 to both sides whoever is named favourite, and an away favourite the minus", () => {
    const pick = parse(row({ spread: '0', fav: '' })).games[0]!.odds.filter((o) => o.market === 'spreads');
    expect(pick.map((o) => [o.outcome, o.point])).toEqual([['home', 0], ['away', 0]]);
    const away = parse(row({ fav: 'away', spread: '7' })).games[0]!.odds.filter((o) => o.market === 'spreads');
    expect(away.map((o) => [o.outcome, o.point])).toEqual([['away', -7], ['home', 7]]);
  });

  it('leaves a missing line out (no price, not zero) and reports an unreadable one, marking it so a stored price is kept', () => {
    const missing = parse(row({ mla: '', mlh: '', spread: '' })).games[0]!;
    expect(missing.odds.map((o) => o.market)).toEqual(['totals', 'totals']);
    expect(missing.unreadable).toEqual([]);

    const bad = parse(row({ mla: '8', spread: '6.3', total: 'n/a' }), row({ date: '2022-01-06', fav: 'neither', spread: '3' }));
    expect(bad.rejected).toEqual([]);
    expect(bad.invalidPrices).toEqual([
      { file: 'x.csv', line: 2, reason: 'moneyline_away "8" is not American odds (≤ −100 or ≥ +100)' },
      { file: 'x.csv', line: 2, reason: 'spread "6.3" is not a line (a whole or half number from 0 to 60)' },
      { file: 'x.csv', line: 2, reason: 'total "n/a" is not a line (a whole or half number from 50 to 400)' },
      { file: 'x.csv', line: 3, reason: 'whos_favored "neither" is neither home nor away, so spread 3 has no side' },
    ]);
    expect(bad.games[0]!.odds.map((o) => `${o.market} ${o.outcome}`)).toEqual(['h2h home']);
    expect(bad.games[0]!.unreadable.map((u) => `${u.market} ${u.outcome}`)).toEqual(['h2h away', 'spreads home', 'spreads away', 'totals over', 'totals under']);
    expect(bad.games[1]!.unreadable.map((u) => `${u.market} ${u.outcome}`)).toEqual(['spreads home', 'spreads away']);
  });

  it('rejects rows that cannot be a game, as file:line', () => {
    const { games, rejected } = parse(
      row({ season: '22' }),
      row({ date: '2019-01-05' }),
      row({ home: 'bos' }),
      row({ sh: '' }),
      row({ sh: '100' }),
      row({ date: '2022-01-07' }),
      row({ date: '2022-01-07' }),
    );
    expect(rejected).toEqual([
      { file: 'x.csv', line: 2, reason: 'season "22" is not the year a season ends' },
      { file: 'x.csv', line: 3, reason: 'date 2019-01-05 is not in season 2021/22' },
      { file: 'x.csv', line: 4, reason: 'home and away are both "bos"' },
      { file: 'x.csv', line: 5, reason: 'only one of score_home and score_away is set' },
      { file: 'x.csv', line: 6, reason: 'a tied final score (100-100): NBA games end with a winner' },
      { file: 'x.csv', line: 8, reason: 'duplicate of an earlier row (2022-01-07:bos@ny)' },
    ]);
    expect(games.map((g) => g.line)).toEqual([7]);
  });

  it('takes a game without a score as scheduled, and tolerates a BOM, CRLF and empty trailing cells', () => {
    const text = '\uFEFF' + [HEADER, row({ sa: '', sh: '' }) + ',,', row({ date: '2022-01-08' }), ',,,'].join('\r\n') + '\r\n';
    const { games, rejected } = parseNbaArchiveCsv(text, 'y.csv');
    expect(rejected).toEqual([]);
    expect(games.map((g) => [g.line, g.status, g.homeScore])).toEqual([[2, 'scheduled', null], [3, 'finished', 104]]);
  });

  it('refuses a file that is not the archive, at its header line', () => {
    expect(parseNbaArchiveCsv('Div,Date,HomeTeam,AwayTeam\nE0,01/01/2020,A,B\n', 'E0.csv').rejected).toEqual([
      { file: 'E0.csv', line: 1, reason: 'header has no season column; not an NBA archive file (data/nba/README.md)' },
    ]);
  });
});
