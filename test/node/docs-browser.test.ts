// /docs in a real browser: Debian's Chromium opens the page the Worker serves, Swagger UI fetches
// /openapi.json from the same Worker, and every operation of the document must be listed on the page.
// The page loads Swagger UI from jsDelivr; the test answers those requests with the identical files of the
// pinned swagger-ui-dist package, so it needs no network and tests the release the page asks for.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startStatelessWorker, type StatelessWorker } from '../../scripts/lib/openapi-document';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const SWAGGER_DIST = join(ROOT, 'node_modules/swagger-ui-dist');
const CDN = 'https://cdn.jsdelivr.net/npm/swagger-ui-dist@';
const CONTENT_TYPES: Record<string, string> = { js: 'text/javascript', css: 'text/css', png: 'image/png', map: 'application/json' };

it.runIf(!hasChromium && process.env.CI === 'true')('CI has Chromium for the docs browser check (.ci/run installs it)', () => {
  expect.fail(`CI=true but ${CHROMIUM} is missing`);
});

describe.skipIf(!hasChromium)('/docs in headless Chromium', () => {
  let worker: StatelessWorker;
  let profile: string;
  let browser: BrowserContext;
  let cdnPrefix: string;

  beforeAll(async () => {
    worker = await startStatelessWorker();
    cdnPrefix = `${CDN}${await swaggerUiRelease(worker)}/`;
    profile = await mkdtemp(join(tmpdir(), 'senzu-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await worker?.dispose();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it('loads the pinned Swagger UI release, the one installed as swagger-ui-dist', async () => {
    const release = await swaggerUiRelease(worker);
    const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect(manifest.devDependencies['swagger-ui-dist']).toBe(release);
    const installed = JSON.parse(await readFile(join(SWAGGER_DIST, 'package.json'), 'utf8')) as { version: string };
    expect(installed.version).toBe(release);
  });

  it('lists every operation of /openapi.json', async () => {
    const document = (await (await worker.fetch('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    const expected = Object.entries(document.paths)
      .flatMap(([path, item]) => Object.keys(item).filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m)).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(expected.length).toBeGreaterThan(20);

    const page = await browser.newPage();
    const offline: string[] = [];
    await page.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith(worker.url)) return route.continue();
      if (url.startsWith(cdnPrefix)) {
        const file = url.slice(cdnPrefix.length).split('?')[0]!;
        return route.fulfill({ body: await readFile(join(SWAGGER_DIST, file)), contentType: CONTENT_TYPES[file.split('.').pop()!] ?? 'application/octet-stream' });
      }
      offline.push(url);
      return route.abort();
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));

    const response = await page.goto(`${worker.url}/docs`);
    expect(response?.status()).toBe(200);
    await page.locator('.opblock').first().waitFor({ timeout: 30_000 });
    await expect.poll(() => page.locator('.opblock').count(), { timeout: 10_000 }).toBe(expected.length);

    const listed = await page.locator('.opblock').evaluateAll((blocks) =>
      blocks.map((block) => {
        const method = block.querySelector('.opblock-summary-method')?.textContent?.trim() ?? '';
        const path = block.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? '';
        return `${method.toUpperCase()} ${path}`;
      }),
    );
    expect(listed.sort()).toEqual(expected);
    expect(await page.locator('.info .title').textContent()).toContain('Senzu AI API');
    expect(pageErrors).toEqual([]);
    expect(offline).toEqual([]);
  });
});

/** The swagger-ui-dist version the served /docs page asks jsDelivr for; a page without a pin fails here. */
async function swaggerUiRelease(worker: StatelessWorker): Promise<string> {
  const html = await (await worker.fetch('/docs')).text();
  const release = html.match(/cdn\.jsdelivr\.net\/npm\/swagger-ui-dist@(\d+\.\d+\.\d+)\//)?.[1];
  if (!release) throw new Error(`/docs does not load a pinned swagger-ui-dist release:\n${html}`);
  return release;
}
