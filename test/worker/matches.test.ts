// GET /matches and GET /matches/{matchId} over the football-data.co.uk files the global setup imports (at
// least E0 2018/19 and 2023/24). Every fact asserted here is in those CSV files; ids are looked up through
// the API.
import { beforeAll, describe, expect, it } from 'vitest';
import { getJson, walk, type Page } from './support/http';

interface Ref {
  id: number;
  name: string;
}
interface Match {
  id: number;
  sportId: number;
  competition: { id: number; key: string; name: string };
  season: string | null;
  homeTeam: Ref;
  awayTeam: Ref;
  status: string;
  startAt: string;
  startTimeKnown: boolean;
  score: { fullTime: { home: number; away: number }; halfTime: { home: number; away: number } | null } | null;
  statistics: Record<'home' | 'away', Record<string, number | null>> | null;
  referee: string | null;
}

/** Newest first, ties on kick-off broken by id (descending), as the (start_at, id) keyset promises. */
function expectOrdered(rows: Match[], order: 'asc' | 'desc') {
  for (let i = 1; i < rows.length; i++) {
    const [a, b] = order === 'desc' ? [rows[i]!, rows[i - 1]!] : [rows[i - 1]!, rows[i]!];
    const key = (m: Match) => [Date.parse(m.startAt), m.id] as const;
    const [aTime, aId] = key(a);
    const [bTime, bId] = key(b);
    expect(aTime < bTime || (aTime === bTime && aId < bId), `row ${i} out of ${order} order`).toBe(true);
  }
}

const SEASON_2324 = 'from=2023-07-01&to=2024-07-01';
const SEASON_1819 = 'from=2018-07-01&to=2019-07-01';

let soccerId: number;
const teamIds = new Map<string, number>();
let burnleyManCity: Match;
let eplId: number;

beforeAll(async () => {
  const { data: sports } = await getJson<{ data: Array<{ id: number; key: string }> }>('/sports');
  soccerId = sports.find((s) => s.key === 'soccer')!.id;
  const { data: teams } = await getJson<Page<Ref>>(`/sports/${soccerId}/teams?limit=500`);
  for (const team of teams) teamIds.set(team.name, team.id);
  const { data } = await getJson<Page<Match>>(`/matches?teamId=${teamIds.get('Burnley')}&from=2023-08-11&to=2023-08-12`);
  expect(data).toHaveLength(1);
  burnleyManCity = data[0]!;
  eplId = burnleyManCity.competition.id;
});

describe('GET /matches/{matchId}', () => {
  it('returns E0 2023-08-11 Burnley 0-3 Man City with its result and statistics', async () => {
    const match = await getJson<Match>(`/matches/${burnleyManCity.id}`);
    expect(match).toEqual({
      id: burnleyManCity.id,
      sportId: soccerId,
      competition: { id: eplId, key: 'soccer_epl', name: expect.any(String) },
      season: '2023-24',
      homeTeam: { id: teamIds.get('Burnley'), name: 'Burnley' },
      awayTeam: { id: teamIds.get('Man City'), name: 'Man City' },
      status: 'finished',
      // 20:00 in the CSV is UK time (BST, UTC+1).
      startAt: '2023-08-11T19:00:00.000Z',
      startTimeKnown: true,
      score: { fullTime: { home: 0, away: 3 }, halfTime: { home: 0, away: 2 } },
      statistics: {
        home: { shots: 6, shotsOnTarget: 1, corners: 6, fouls: 11, yellowCards: 0, redCards: 1 },
        away: { shots: 17, shotsOnTarget: 8, corners: 5, fouls: 8, yellowCards: 0, redCards: 0 },
      },
      referee: 'C Pawson',
    });
  });

  it('returns a 2018/19 match, whose file has no kick-off time, at midnight UTC with startTimeKnown false', async () => {
    const { data } = await getJson<Page<Match>>(`/matches?teamId=${teamIds.get('Man United')}&from=2018-08-10&to=2018-08-11`);
    expect(data).toHaveLength(1);
    const match = await getJson<Match>(`/matches/${data[0]!.id}`);
    expect(match).toMatchObject({
      competition: { id: eplId, key: 'soccer_epl' },
      season: '2018-19',
      homeTeam: { name: 'Man United' },
      awayTeam: { name: 'Leicester' },
      status: 'finished',
      startAt: '2018-08-10T00:00:00.000Z',
      startTimeKnown: false,
      score: { fullTime: { home: 2, away: 1 }, halfTime: { home: 1, away: 0 } },
      statistics: {
        home: { shots: 8, shotsOnTarget: 6, corners: 2, fouls: 11, yellowCards: 2, redCards: 0 },
        away: { shots: 13, shotsOnTarget: 4, corners: 5, fouls: 8, yellowCards: 1, redCards: 0 },
      },
      referee: 'A Marriner',
    });
  });

  it('has the same shape as the list items', async () => {
    expect(await getJson<Match>(`/matches/${burnleyManCity.id}`)).toEqual(burnleyManCity);
  });
});

describe('GET /matches filters', () => {
  it('teamId returns home and away matches: Arsenal played 38 in 2023/24, 19 at home', async () => {
    const arsenal = teamIds.get('Arsenal')!;
    const { data, nextCursor } = await getJson<Page<Match>>(`/matches?teamId=${arsenal}&${SEASON_2324}&limit=100`);
    expect(nextCursor).toBeNull();
    expect(data).toHaveLength(38);
    expect(data.filter((m) => m.homeTeam.id === arsenal)).toHaveLength(19);
    expect(data.filter((m) => m.awayTeam.id === arsenal)).toHaveLength(19);
    expect(data.every((m) => m.season === '2023-24')).toBe(true);
    expectOrdered(data, 'desc');
  });

  it('competitionId and sportId narrow to the league: 380 matches a season', async () => {
    const byCompetition = await walk<Match>(`/matches?competitionId=${eplId}&${SEASON_2324}&limit=100`);
    expect(byCompetition.pageSizes).toEqual([100, 100, 100, 80]);
    expect(byCompetition.rows.every((m) => m.competition.id === eplId && m.sportId === soccerId)).toBe(true);
    expect(new Set(byCompetition.rows.map((m) => m.id)).size).toBe(380);

    const bySport = await walk<Match>(`/matches?sportId=${soccerId}&competitionId=${eplId}&${SEASON_1819}&limit=100`);
    expect(bySport.rows).toHaveLength(380);
    expect(bySport.rows.every((m) => m.season === '2018-19')).toBe(true);
  });

  it('an unknown sport, competition or team matches nothing', async () => {
    for (const filter of ['sportId=32000', 'competitionId=2000000000', 'teamId=2000000000', 'teamId=9007199254740991']) {
      expect(await getJson<Page<Match>>(`/matches?${filter}`), filter).toEqual({ data: [], nextCursor: null });
    }
  });

  it('status filters on the match status', async () => {
    const finished = await getJson<Page<Match>>(`/matches?status=finished&competitionId=${eplId}&limit=50`);
    expect(finished.data).toHaveLength(50);
    expect(finished.data.every((m) => m.status === 'finished')).toBe(true);
    // Every imported E0 match of these seasons has its result.
    expect(await getJson<Page<Match>>(`/matches?status=scheduled&competitionId=${eplId}&${SEASON_2324}`)).toEqual({ data: [], nextCursor: null });
  });

  it('from is inclusive and to exclusive, on the kick-off instant', async () => {
    // The Premier League only: other tests load other leagues (La Liga also opened on 11 August 2023).
    const at = (from: string, to: string) => getJson<Page<Match>>(`/matches?competitionId=${eplId}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    expect((await at('2023-08-11T19:00:00Z', '2023-08-11T19:00:01Z')).data.map((m) => m.id)).toEqual([burnleyManCity.id]);
    expect((await at('2023-08-11T21:00:00+02:00', '2023-08-11T19:01:00Z')).data.map((m) => m.id)).toEqual([burnleyManCity.id]);
    expect((await at('2023-08-11', '2023-08-11T19:00:00Z')).data).toEqual([]);
    expect((await at('2023-08-11T19:00:00.001Z', '2023-08-12')).data).toEqual([]);
  });

  it('a date means midnight UTC: the first 2018/19 round is 1 match on Friday, 6 on Saturday, 3 on Sunday', async () => {
    const day = async (from: string, to: string) => (await getJson<Page<Match>>(`/matches?competitionId=${eplId}&from=${from}&to=${to}`)).data;
    expect((await day('2018-08-10', '2018-08-11')).map((m) => `${m.homeTeam.name}-${m.awayTeam.name}`)).toEqual(['Man United-Leicester']);
    expect(await day('2018-08-11', '2018-08-12')).toHaveLength(6);
    expect(await day('2018-08-12', '2018-08-13')).toHaveLength(3);
  });

  it('unknown query parameters are ignored', async () => {
    const plain = await getJson<Page<Match>>(`/matches?teamId=${teamIds.get('Burnley')}&from=2023-08-11&to=2023-08-12`);
    expect(await getJson<Page<Match>>(`/matches?teamId=${teamIds.get('Burnley')}&from=2023-08-11&to=2023-08-12&colour=red`)).toEqual(plain);
  });
});

describe('GET /matches ordering and pagination', () => {
  it('defaults to 25 matches, newest first', async () => {
    const page = await getJson<Page<Match>>(`/matches?competitionId=${eplId}&${SEASON_2324}`);
    expect(page.data).toHaveLength(25);
    expect(page.nextCursor).toEqual(expect.any(String));
    expectOrdered(page.data, 'desc');
    // The last day of 2023/24 was 19 May 2024: ten matches at 15:00 UTC+1.
    expect(page.data.slice(0, 10).every((m) => m.startAt === '2024-05-19T15:00:00.000Z')).toBe(true);
  });

  it('walks a filtered query page by page with no gap and no repeat', async () => {
    const arsenal = teamIds.get('Arsenal')!;
    const all = await getJson<Page<Match>>(`/matches?teamId=${arsenal}&${SEASON_2324}&limit=100`);
    const walked = await walk<Match>(`/matches?teamId=${arsenal}&${SEASON_2324}&limit=7`);
    expect(walked.pageSizes).toEqual([7, 7, 7, 7, 7, 3]);
    expect(walked.rows).toEqual(all.data);
  });

  it('pages through matches that share a kick-off without losing any (keyset on start_at and id)', async () => {
    // 2018/19 has no kick-off times: six matches share 2018-08-11T00:00Z, so pages of 4 split the tie.
    const walked = await walk<Match>(`/matches?competitionId=${eplId}&from=2018-08-10&to=2018-08-13&limit=4&order=asc`);
    expect(walked.pageSizes).toEqual([4, 4, 2]);
    expect(new Set(walked.rows.map((m) => m.id)).size).toBe(10);
    expectOrdered(walked.rows, 'asc');
    const desc = await walk<Match>(`/matches?competitionId=${eplId}&from=2018-08-10&to=2018-08-13&limit=3`);
    expect(desc.rows).toEqual([...walked.rows].reverse());
  });

  it('order=asc is the exact reverse of the default order', async () => {
    const query = `competitionId=${eplId}&${SEASON_2324}&limit=100`;
    const desc = await walk<Match>(`/matches?${query}`);
    const asc = await walk<Match>(`/matches?${query}&order=asc`);
    expect(asc.rows).toHaveLength(380);
    expectOrdered(asc.rows, 'asc');
    expect(asc.rows).toEqual([...desc.rows].reverse());
    // E0 2023/24 opened with Burnley v Man City.
    expect(asc.rows[0]!.id).toBe(burnleyManCity.id);
  });

  it('a cursor keeps its order when order is omitted, and limit may change between pages', async () => {
    const query = `competitionId=${eplId}&${SEASON_2324}`;
    const all = await walk<Match>(`/matches?${query}&order=asc&limit=100`);
    const first = await getJson<Page<Match>>(`/matches?${query}&order=asc&limit=5`);
    const second = await getJson<Page<Match>>(`/matches?${query}&limit=20&cursor=${first.nextCursor}`);
    expect([...first.data, ...second.data]).toEqual(all.rows.slice(0, 25));
  });

  it('accepts the bounds of limit', async () => {
    expect((await getJson<Page<Match>>(`/matches?competitionId=${eplId}&limit=1`)).data).toHaveLength(1);
    expect((await getJson<Page<Match>>(`/matches?competitionId=${eplId}&limit=100`)).data).toHaveLength(100);
  });

  it('returns nextCursor null when the last page is exactly full', async () => {
    const arsenal = teamIds.get('Arsenal')!;
    const walked = await walk<Match>(`/matches?teamId=${arsenal}&${SEASON_2324}&limit=19`);
    expect(walked.pageSizes).toEqual([19, 19]);
  });
});
