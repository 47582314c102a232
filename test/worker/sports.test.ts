// GET /sports and GET /sports/{sportId}/teams over the football-data.co.uk files the global setup imports
// (at least E0 2018/19 and 2023/24), and basketball, which db:migrate loads from data/sports/basketball.json.
// Ids are looked up through the API, never assumed.
import { beforeAll, describe, expect, it } from 'vitest';
import { byteOrder, getJson, walk, type Page } from './support/http';

interface Sport {
  id: number;
  key: string;
  name: string;
}
interface Team {
  id: number;
  name: string;
}

// The 20 clubs of 2018/19 and the 5 of 2023/24 that were not in that season.
const E0_CLUBS = [
  'Arsenal', 'Bournemouth', 'Brighton', 'Burnley', 'Cardiff', 'Chelsea', 'Crystal Palace', 'Everton', 'Fulham',
  'Huddersfield', 'Leicester', 'Liverpool', 'Man City', 'Man United', 'Newcastle', 'Southampton', 'Tottenham',
  'Watford', 'West Ham', 'Wolves', "Nott'm Forest", 'Luton', 'Sheffield United', 'Aston Villa', 'Brentford',
];

// Other suites add teams of their own to the same database while this one runs; comparisons between two
// requests look at the imported clubs only.
const onlyE0 = (teams: Team[]) => teams.filter((t) => E0_CLUBS.includes(t.name));

let soccer: Sport;

beforeAll(async () => {
  const { data } = await getJson<{ data: Sport[] }>('/sports');
  soccer = data.find((s) => s.key === 'soccer')!;
});

describe('GET /sports', () => {
  it('lists soccer with its id, key and name', async () => {
    const { data } = await getJson<{ data: Sport[] }>('/sports');
    expect(soccer).toEqual({ id: expect.any(Number), key: 'soccer', name: 'Soccer' });
    expect(Number.isInteger(soccer.id)).toBe(true);
    for (const sport of data) expect(Object.keys(sport).sort()).toEqual(['id', 'key', 'name']);
    expect(data.map((s) => s.id)).toEqual([...data.map((s) => s.id)].sort((a, b) => a - b));
  });

  it('lists basketball, a sport declared as data, with its 30 NBA teams under their current names', async () => {
    const { data } = await getJson<{ data: Sport[] }>('/sports');
    const basketball = data.find((s) => s.key === 'basketball');
    expect(basketball).toEqual({ id: expect.any(Number), key: 'basketball', name: 'Basketball' });
    const teams = await getJson<Page<Team>>(`/sports/${basketball!.id}/teams?limit=500`);
    expect(teams.data).toHaveLength(30);
    expect(teams.data.map((t) => t.name)).toEqual(expect.arrayContaining(['Boston Celtics', 'Oklahoma City Thunder', 'Brooklyn Nets', 'Los Angeles Clippers']));
    expect(teams.data.map((t) => t.name)).not.toContain('Seattle SuperSonics');
  });
});

describe('GET /sports/{sportId}/teams', () => {
  it('lists every imported club once, in byte order of name', async () => {
    const { data, nextCursor } = await getJson<Page<Team>>(`/sports/${soccer.id}/teams?limit=500`);
    expect(nextCursor).toBeNull();
    const names = data.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(E0_CLUBS));
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual([...names].sort(byteOrder));
    expect(names.indexOf('Man City')).toBeLessThan(names.indexOf('Man United'));
    for (const team of data) {
      expect(Object.keys(team).sort()).toEqual(['id', 'name']);
      expect(Number.isInteger(team.id) && team.id > 0).toBe(true);
    }
  });

  it('defaults to pages of 100 rows', async () => {
    const first = await getJson<Page<Team>>(`/sports/${soccer.id}/teams`);
    const all = await getJson<Page<Team>>(`/sports/${soccer.id}/teams?limit=500`);
    expect(onlyE0(first.data)).toEqual(onlyE0(all.data.slice(0, 100)));
    expect(first.nextCursor === null).toBe(first.data.length < 100);
  });

  it('walks small pages without gaps or repeats, and the page size may change between pages', async () => {
    const walked = await walk<Team>(`/sports/${soccer.id}/teams?limit=4`);
    const all = await getJson<Page<Team>>(`/sports/${soccer.id}/teams?limit=500`);
    expect(onlyE0(walked.rows)).toEqual(onlyE0(all.data));
    expect(onlyE0(walked.rows)).toHaveLength(E0_CLUBS.length);
    expect(new Set(walked.rows.map((t) => t.id)).size).toBe(walked.rows.length);
    expect(walked.rows.map((t) => t.name)).toEqual(walked.rows.map((t) => t.name).sort(byteOrder));
    expect(walked.pageSizes.slice(0, -1).every((n) => n === 4)).toBe(true);
    expect(walked.pageSizes.at(-1)).toBeGreaterThan(0);

    const first = await getJson<Page<Team>>(`/sports/${soccer.id}/teams?limit=3`);
    const second = await getJson<Page<Team>>(`/sports/${soccer.id}/teams?limit=10&cursor=${first.nextCursor}`);
    expect(first.data).toHaveLength(3);
    expect(second.data).toHaveLength(10);
    const both = [...first.data, ...second.data];
    expect(onlyE0(both)).toEqual(onlyE0(all.data).filter((t) => byteOrder(t.name, both.at(-1)!.name) <= 0));
  });

  it('accepts the bounds of limit', async () => {
    expect((await getJson<Page<Team>>(`/sports/${soccer.id}/teams?limit=1`)).data).toHaveLength(1);
    expect((await getJson<Page<Team>>(`/sports/${soccer.id}/teams?limit=500`)).data.length).toBeGreaterThanOrEqual(E0_CLUBS.length);
  });
});
