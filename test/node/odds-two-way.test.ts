// 2-way markets (moneyline, one spread line, one total line): American odds, margin removal for n = 2 with
// values worked by hand, and grading with pushes, checked against the NBA archive's own cover/over columns.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  americanToDecimal,
  decimalToAmerican,
  gradeLineBet,
  gradeBet,
  gradeMatchResult,
  gradeMoneyline,
  gradeSpread,
  gradeTotal,
  MARGIN_METHODS,
  profitPerUnit,
  removeMargin,
  removeMarginPower,
  removeMarginShin,
  STANDARD_LINE_PRICE,
} from '../../src/domain/odds';
import { parseCsv } from '../../src/providers/football-data/csv';

const NBA_DATA_DIR = new URL('../../data/nba/', import.meta.url).pathname;

describe('American odds', () => {
  it('converts to decimal: 1 + ml/100 for an underdog, 1 + 100/|ml| for a favourite', () => {
    expect(americanToDecimal(-110)).toBe(21 / 11);
    expect(STANDARD_LINE_PRICE).toBe(americanToDecimal(-110));
    expect(STANDARD_LINE_PRICE).toBeCloseTo(1.90909, 5);
    expect(americanToDecimal(130)).toBeCloseTo(2.3, 15);
    expect(americanToDecimal(-150)).toBeCloseTo(5 / 3, 15);
    expect(americanToDecimal(100)).toBe(2);
    expect(americanToDecimal(-100)).toBe(2);
    expect(americanToDecimal(-1400)).toBeCloseTo(1.0714286, 7);
    expect(americanToDecimal(900)).toBe(10);
  });

  it('refuses what is not American odds', () => {
    for (const bad of [0, 8, -99, 99.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => americanToDecimal(bad)).toThrow(RangeError);
  });

  it('converts back to the whole-number quote', () => {
    for (const ml of [-1400, -300, -150, -110, 100, 130, 575, 900]) expect(decimalToAmerican(americanToDecimal(ml))).toBe(ml === -100 ? 100 : ml);
    expect(decimalToAmerican(2)).toBe(100);
    expect(() => decimalToAmerican(1)).toThrow(RangeError);
  });
});

describe('margin removal on 2-way markets', () => {
  it('makes two −110 prices 0.5/0.5 under every method, with the 1/21 overround', () => {
    for (const method of MARGIN_METHODS) {
      const r = removeMargin([STANDARD_LINE_PRICE, STANDARD_LINE_PRICE], method);
      expect(r.overround).toBeCloseTo(1 / 21, 15); // 2 × 11/21 − 1
      expect(r.probabilities[0]).toBeCloseTo(0.5, 15);
      expect(r.probabilities[1]).toBeCloseTo(0.5, 15);
    }
  });

  // −150 / +130: decimal 5/3 and 2.3, implied π = 0.6 and 0.4347826 (1/2.3), booksum S = 1.0347826.
  const odds = [americanToDecimal(-150), americanToDecimal(130)];

  it('multiplicative: π_i / S', () => {
    // 0.6 / 1.0347826 = 0.5798319; 0.4347826 / 1.0347826 = 0.4201681
    const r = removeMargin(odds, 'multiplicative');
    expect(r.overround).toBeCloseTo(0.0347826, 7);
    expect(r.probabilities[0]).toBeCloseTo(0.5798319, 7);
    expect(r.probabilities[1]).toBeCloseTo(0.4201681, 7);
  });

  it('Shin: for two outcomes the additive split, π_i − (S − 1)/2', () => {
    // 0.6 − 0.0347826/2 = 0.5826087; 0.4347826 − 0.0173913 = 0.4173913
    const r = removeMarginShin(odds);
    expect(r.probabilities[0]).toBeCloseTo(0.5826087, 7);
    expect(r.probabilities[1]).toBeCloseTo(0.4173913, 7);
    expect(r.z).toBeGreaterThan(0);
  });

  it('power: π_i^k with 0.6^k + 0.4347826^k = 1', () => {
    // k = 1.0529699 (Newton by hand from k = 1: f(1) = 0.0347826, f'(1) = 0.6 ln 0.6 + 0.4348 ln 0.4348 = −0.6686,
    // k₁ = 1.0520; one more step gives 1.05297); 0.6^k = 0.5839826, 0.4347826^k = 0.4160174
    const r = removeMarginPower(odds);
    expect(r.k).toBeCloseTo(1.0529699, 7);
    expect(r.probabilities[0]).toBeCloseTo(0.5839826, 7);
    expect(r.probabilities[1]).toBeCloseTo(0.4160174, 7);
    expect(0.6 ** r.k + (1 / 2.3) ** r.k).toBeCloseTo(1, 12);
  });

  it('orders the methods by how much margin they move onto the underdog', () => {
    const [basic, shin, power] = (['multiplicative', 'shin', 'power'] as const).map((m) => removeMargin(odds, m).probabilities[0]!);
    expect(basic).toBeLessThan(shin!);
    expect(shin).toBeLessThan(power!);
  });
});

describe('grading a 2-way bet', () => {
  const score = (home: number, away: number) => ({ home, away });

  it('spreads: the side wins by more than its handicap gives away; on an integer line a tie is a push', () => {
    // home 100–95: a 5-point home win
    expect(gradeSpread('home', -4.5, score(100, 95))).toBe('win');
    expect(gradeSpread('away', 4.5, score(100, 95))).toBe('loss');
    expect(gradeSpread('home', -5, score(100, 95))).toBe('push');
    expect(gradeSpread('away', 5, score(100, 95))).toBe('push');
    expect(gradeSpread('home', -5.5, score(100, 95))).toBe('loss');
    expect(gradeSpread('away', 5.5, score(100, 95))).toBe('win');
    // a pick'em: the winner covers, no push possible without a tie
    expect(gradeSpread('away', 0, score(100, 95))).toBe('loss');
    // an underdog who wins outright covers any plus handicap
    expect(gradeSpread('away', 3, score(90, 95))).toBe('win');
  });

  it('totals: over and under the line; on an integer line an exact total is a push for both', () => {
    expect(gradeTotal('over', 215, score(110, 105))).toBe('push');
    expect(gradeTotal('under', 215, score(110, 105))).toBe('push');
    expect(gradeTotal('over', 215.5, score(110, 105))).toBe('loss');
    expect(gradeTotal('under', 215.5, score(110, 105))).toBe('win');
    expect(gradeTotal('over', 214.5, score(110, 105))).toBe('win');
  });

  it('moneyline: the winner; a tie (a sport that has them) returns the stake', () => {
    expect(gradeMoneyline('home', score(101, 99))).toBe('win');
    expect(gradeMoneyline('away', score(101, 99))).toBe('loss');
    expect(gradeMoneyline('away', score(1, 1))).toBe('push');
  });

  it('1X2 (3-way h2h): a draw is an outcome, not a push, so home and away lose on it', () => {
    expect(gradeMatchResult('home', score(2, 1))).toBe('win');
    expect(gradeMatchResult('draw', score(2, 1))).toBe('loss');
    expect(gradeMatchResult('away', score(2, 1))).toBe('loss');
    expect(gradeMatchResult('draw', score(1, 1))).toBe('win');
    expect(gradeMatchResult('home', score(1, 1))).toBe('loss');
    expect(gradeMatchResult('away', score(0, 3))).toBe('win');
  });

  it("grades a prediction row in its sport's h2h book: a level score is a draw with a draw in the book, a push without", () => {
    const oneXTwo = ['home', 'draw', 'away'];
    const moneyline = ['home', 'away'];
    expect(gradeBet({ market: 'h2h', outcome: 'home', point: null }, score(1, 1), oneXTwo)).toBe('loss');
    expect(gradeBet({ market: 'h2h', outcome: 'draw', point: null }, score(1, 1), oneXTwo)).toBe('win');
    expect(gradeBet({ market: 'h2h', outcome: 'home', point: null }, score(1, 1), moneyline)).toBe('push');
    expect(() => gradeBet({ market: 'h2h', outcome: 'draw', point: null }, score(1, 1), moneyline)).toThrow(RangeError);
    expect(gradeBet({ market: 'totals', outcome: 'over', point: 2 }, score(1, 1), oneXTwo)).toBe('push');
  });

  it('grades rows as odds_snapshots stores them, and pays a push back', () => {
    expect(gradeLineBet({ market: 'spreads', outcome: 'home', point: -5 }, score(100, 95))).toBe('push');
    expect(gradeLineBet({ market: 'totals', outcome: 'under', point: 195.5 }, score(100, 95))).toBe('win');
    expect(gradeLineBet({ market: 'h2h', outcome: 'away', point: null }, score(100, 95))).toBe('loss');
    expect(profitPerUnit('push', STANDARD_LINE_PRICE)).toBe(0);
    expect(profitPerUnit('win', STANDARD_LINE_PRICE)).toBeCloseTo(10 / 11, 15);
    expect(profitPerUnit('loss', STANDARD_LINE_PRICE)).toBe(-1);
  });

  it('refuses quarter lines, impossible scores and outcomes a 2-way market lacks', () => {
    expect(() => gradeSpread('home', -0.25, score(1, 0))).toThrow(/quarter line/);
    expect(() => gradeTotal('over', 2.75, score(1, 2))).toThrow(/quarter line/);
    expect(() => gradeSpread('home', -1, score(-1, 0))).toThrow(RangeError);
    expect(() => gradeLineBet({ market: 'h2h', outcome: 'draw', point: null }, score(1, 1))).toThrow(/cannot grade h2h draw/);
    expect(() => gradeLineBet({ market: 'spreads', outcome: 'home', point: null }, score(1, 1))).toThrow(/without a point/);
  });

  it("agrees with the NBA archive's own cover and over/under columns on every game of two seasons", async () => {
    let pushes = 0;
    let games = 0;
    for (const file of ['nba_2007-08.csv', 'nba_2021-22.csv']) {
      const [header, ...rows] = parseCsv(await readFile(join(NBA_DATA_DIR, file), 'utf8'));
      const col = (name: string) => header!.fields.indexOf(name);
      for (const { line, fields } of rows) {
        const get = (name: string) => fields[col(name)]!;
        if (get('spread') === '' || get('id_spread') === '') continue;
        const s = score(Number(get('score_home')), Number(get('score_away')));
        const favourite = get('whos_favored') as 'home' | 'away';
        const spread = gradeSpread(favourite, -Number(get('spread')), s);
        const total = gradeTotal('over', Number(get('total')), s);
        const code = (g: string) => ({ win: '1', loss: '0', push: '2' })[g];
        expect(code(spread), `${file}:${line} spread`).toBe(get('id_spread'));
        expect(code(total), `${file}:${line} total`).toBe(get('id_total'));
        if (spread === 'push') pushes++;
        if (total === 'push') pushes++;
        games++;
      }
    }
    expect(games).toBeGreaterThan(2600);
    expect(pushes).toBeGreaterThan(20); // integer lines land on the result now and then
  });
});
