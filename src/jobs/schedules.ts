// The three Cron Triggers of wrangler.toml. A test checks that this table and wrangler.toml agree.
export const SCHEDULES = {
  odds: '*/5 * * * *',
  fixtures: '0 * * * *',
  daily: '30 3 * * *',
} as const;

export type ScheduleName = keyof typeof SCHEDULES;

export function scheduleNameFor(cron: string): ScheduleName | undefined {
  return (Object.keys(SCHEDULES) as ScheduleName[]).find((name) => SCHEDULES[name] === cron);
}
