// /docs in a real browser with the network cut off: Debian's Chromium opens the page the Worker serves, every
// request that is not to the Worker is aborted and recorded, Swagger UI (served by the Worker from its static
// assets) fetches /openapi.json from the same Worker, and every operation of the document must be listed.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startStatelessWorker, type StatelessWorker } from '../../scripts/lib/openapi-document';
import { fileExists, hasSystemPackages } from './support/system-packages';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SWAGGER_DIST = join(ROOT, 'node_modules/swagger-ui-dist');
const hasChromium = hasSystemPackages({ testFile: import.meta.url, what: `Chromium at ${CHROMIUM}`, packages: ['chromium'], isAvailable: fileExists(CHROMIUM) });

describe.runIf(hasChromium)('/docs in headless Chromium', () => {
  let worker: StatelessWorker;
  let profile: string;
  let browser: BrowserContext;

  beforeAll(async () => {
    worker = await startStatelessWorker();
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

  it('loads the pinned Swagger UI release, the one installed as swagger-ui-dist, from the Worker', async () => {
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
    const fromWorker: string[] = [];
    await page.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith(`${worker.url}/`)) {
        fromWorker.push(new URL(url).pathname);
        return route.continue();
      }
      offline.push(url);
      return route.abort('internetdisconnected');
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
    const release = await swaggerUiRelease(worker);
    expect(fromWorker).toEqual(
      expect.arrayContaining([`/docs/assets/swagger-ui-dist@${release}/swagger-ui-bundle.js`, `/docs/assets/swagger-ui-dist@${release}/swagger-ui.css`, '/openapi.json']),
    );
  });

  it('serves the two Swagger UI files byte for byte and nothing else of the package', async () => {
    const release = await swaggerUiRelease(worker);
    for (const [file, type] of [['swagger-ui-bundle.js', 'text/javascript'], ['swagger-ui.css', 'text/css']] as const) {
      const response = await worker.fetch(`/docs/assets/swagger-ui-dist@${release}/${file}`);
      expect(response.status, file).toBe(200);
      expect(response.headers.get('content-type')).toContain(type);
      expect(Buffer.from(await response.arrayBuffer()).equals(await readFile(join(SWAGGER_DIST, file))), file).toBe(true);
    }
    for (const path of [`/docs/assets/swagger-ui-dist@${release}/index.html`, `/docs/assets/swagger-ui-dist@${release}/package.json`, '/docs/assets/swagger-ui-dist@0.0.1/swagger-ui.css', '/index.html', '/swagger-ui.css']) {
      const response = await worker.fetch(path);
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type'), path).toContain('application/problem+json');
    }
  });
});

/** The swagger-ui-dist version the served /docs page loads from the Worker; a page without a pin fails here. */
async function swaggerUiRelease(worker: StatelessWorker): Promise<string> {
  const html = await (await worker.fetch('/docs')).text();
  const release = html.match(/"\/docs\/assets\/swagger-ui-dist@(\d+\.\d+\.\d+)\/swagger-ui-bundle\.js"/)?.[1];
  if (!release) throw new Error(`/docs does not load a pinned swagger-ui-dist release from the Worker:\n${html}`);
  return release;
}
