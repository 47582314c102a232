// The football calendar both the historical provider and the feature timeline reckon with: the season a date
// falls in, and when football-data.co.uk captured its pre-match prices. Here rather than in the provider's
// parser, so the feature timeline (which serving also runs) does not depend on a provider.

/**
 * When the pre-match prices were captured. The site collects them "on Friday afternoons for weekend games
 * and on Tuesday afternoons for midweek games" and publishes no hour, so the capture is recorded as 12:00 UTC
 * on the last Tuesday or Friday strictly before the match day. The phase column, not this time, is what
 * tells pre-match from closing.
 */
export function preMatchCaptureTime(year: number, month: number, day: number): Date {
  const d = new Date(Date.UTC(year, month - 1, day, 12));
  do d.setUTCDate(d.getUTCDate() - 1);
  while (d.getUTCDay() !== 2 && d.getUTCDay() !== 5);
  return d;
}

/** Season label of a file: from the earliest match date; European seasons start in July or later. */
export function seasonOf(earliest: Date): string {
  const y = earliest.getUTCFullYear();
  const start = earliest.getUTCMonth() >= 6 ? y : y - 1;
  return `${start}-${String((start + 1) % 100).padStart(2, '0')}`;
}
