import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/providers/football-data/csv';
import { parseFootballDataCsv, parseFootballDataDate, preMatchCaptureTime, seasonOf, ukTimeToUtc } from '../../src/providers/football-data/parse';

describe('football-data.co.uk dates and times', () => {
  it('reads both date forms and refuses impossible dates', () => {
    expect(parseFootballDataDate('16/08/14')).toEqual([2014, 8, 16]);
    expect(parseFootballDataDate('11/08/2023')).toEqual([2023, 8, 11]);
    expect(parseFootballDataDate('01/05/99')).toEqual([1999, 5, 1]);
    expect(() => parseFootballDataDate('29/02/2023')).toThrow('not a calendar date');
    expect(() => parseFootballDataDate('2023-08-11')).toThrow('not dd/mm/yy or dd/mm/yyyy');
  });

  it('converts UK kick-off times to UTC across the BST changes', () => {
    // BST 2023: 26 March 01:00 UTC to 29 October 01:00 UTC.
    expect(ukTimeToUtc(2023, 3, 25, 15, 0).toISOString()).toBe('2023-03-25T15:00:00.000Z');
    expect(ukTimeToUtc(2023, 3, 26, 15, 0).toISOString()).toBe('2023-03-26T14:00:00.000Z');
    expect(ukTimeToUtc(2023, 10, 28, 15, 0).toISOString()).toBe('2023-10-28T14:00:00.000Z');
    expect(ukTimeToUtc(2023, 10, 29, 15, 0).toISOString()).toBe('2023-10-29T15:00:00.000Z');
    expect(ukTimeToUtc(2024, 1, 2, 19, 45).toISOString()).toBe('2024-01-02T19:45:00.000Z');
  });

  it('dates pre-match prices to the last Tuesday or Friday before the match day', () => {
    expect(preMatchCaptureTime(2023, 8, 12).toISOString()).toBe('2023-08-11T12:00:00.000Z'); // Saturday → Friday
    expect(preMatchCaptureTime(2023, 8, 14).toISOString()).toBe('2023-08-11T12:00:00.000Z'); // Monday → Friday
    expect(preMatchCaptureTime(2023, 8, 16).toISOString()).toBe('2023-08-15T12:00:00.000Z'); // Wednesday → Tuesday
    expect(preMatchCaptureTime(2023, 8, 15).toISOString()).toBe('2023-08-11T12:00:00.000Z'); // Tuesday → Friday before
    expect(preMatchCaptureTime(2023, 8, 11).toISOString()).toBe('2023-08-08T12:00:00.000Z'); // Friday → Tuesday
  });

  it('labels a season by its first match, so late-finishing seasons keep their label', () => {
    expect(seasonOf(new Date('2019-08-09T19:00:00Z'))).toBe('2019-20');
    expect(seasonOf(new Date('2099-09-01T00:00:00Z'))).toBe('2099-00');
    // 2019/20 ended on 26 July 2020 in England: those games belong to the season the file started in.
    const file = 'Div,Date,Time,HomeTeam,AwayTeam,FTHG,FTAG\nE0,09/08/2019,20:00,Liverpool,Norwich,4,1\nE0,26/07/2020,16:00,Man City,Norwich,5,0\n';
    expect(parseFootballDataCsv(file, 'E0_1920.csv').matches.map((m) => m.season)).toEqual(['2019-20', '2019-20']);
  });
});

describe('CSV reader', () => {
  it('handles quotes, doubled quotes, CRLF, a BOM and reports the line each record starts on', () => {
    const text = '\uFEFFa,b\r\n"x, y","say ""hi"""\r\n"multi\nline",2\n,\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"'] },
      { line: 3, fields: ['multi\nline', '2'] },
      { line: 5, fields: ['', ''] },
    ]);
  });
});
