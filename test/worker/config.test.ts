// The Worker's configuration as wrangler hands it over: every value a string, "unset" spelled as an empty
// string (vars and .dev.vars cannot express absence), lists comma-separated. A bad value is one clear error
// naming the setting, raised before any request is served.
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { ConfigError, configFrom, type Env } from '../../src/env';

const withVars = (vars: Record<string, string>) => configFrom({ ...env, ...vars } as Env);

describe('configFrom', () => {
  it('reads comma lists trimmed, without empty items, and the empty string as the empty list', () => {
    const config = withVars({ CORS_ORIGINS: ' https://app.senzu.ai, ,https://preview.senzu.ai ,', ODDS_API_SPORTS: 'soccer_epl,soccer_spain_la_liga', FOOTBALL_DATA_CSV_URLS: '' });
    expect(config.CORS_ORIGINS).toEqual(['https://app.senzu.ai', 'https://preview.senzu.ai']);
    expect(config.ODDS_API_SPORTS).toEqual(['soccer_epl', 'soccer_spain_la_liga']);
    expect(config.FOOTBALL_DATA_CSV_URLS).toEqual([]);
  });

  it('reads an empty optional setting as unset', () => {
    const config = withVars({ WS_PROXY: '', ODDS_API_KEY: '', OTEL_EXPORTER_OTLP_ENDPOINT: '', S3_ENDPOINT: '' });
    expect(config.WS_PROXY).toBeUndefined();
    expect(config.ODDS_API_KEY).toBeUndefined();
    expect(config.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    expect(config.S3_ENDPOINT).toBeUndefined();
    expect(withVars({ ODDS_API_KEY: 'k-123', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toMatchObject({
      ODDS_API_KEY: 'k-123',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
    });
  });

  it('refuses a malformed value with an error that names the setting', () => {
    expect(() => withVars({ FOOTBALL_DATA_CSV_URLS: 'https://www.football-data.co.uk/mmz4281/2425/E0.csv, E1.csv' })).toThrow(ConfigError);
    expect(() => withVars({ FOOTBALL_DATA_CSV_URLS: 'https://www.football-data.co.uk/mmz4281/2425/E0.csv, E1.csv' })).toThrow(
      /FOOTBALL_DATA_CSV_URLS\.1: FOOTBALL_DATA_CSV_URLS must be comma-separated URLs/,
    );
    expect(() => withVars({ OTEL_EXPORTER_OTLP_ENDPOINT: 'datadog' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT: OTEL_EXPORTER_OTLP_ENDPOINT must be a URL/);
  });
});
