// Benchmark (run by scripts/bench-call, which starts the server): a first
// visit with an empty cache, as issue 32 measures it. Chromium throttled by
// DevTools: a phone (390x844, 4x slower CPU) on "Fast 3G" (1.6 Mbit/s down,
// 750 kbit/s up, 150 ms) and on "4G" (9 Mbit/s, 40 ms) for the customer's
// page and the sign-in page; a laptop (no CPU slowdown) on 4G for the desk.
// For each: bytes transferred by kind of asset (compressed, as sent), the
// first paint, and when the page is usable (hydrated: body[data-hydrated]).
// Prints figures; asserts nothing.
import { chromium } from '@playwright/test';

const base = process.env.BENCH_URL;
const small = !!process.env.BENCH_SMALL;
const rep = { email: process.env.BENCH_REP_EMAIL, password: process.env.BENCH_REP_PASSWORD };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});

const NETWORKS = {
  'Fast 3G': { latency: 150, downloadThroughput: (1.6 * 1e6) / 8, uploadThroughput: (750 * 1e3) / 8 },
  '4G': { latency: 40, downloadThroughput: (9 * 1e6) / 8, uploadThroughput: (9 * 1e6) / 8 },
};
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, cpu: 4 };
const LAPTOP = { viewport: { width: 1366, height: 768 }, isMobile: false, hasTouch: false, cpu: 1 };

/** The cookies of a representative signed in (for the desk). */
async function signedIn() {
  const context = await browser.newContext({ baseURL: base });
  const page = await context.newPage();
  await page.goto('/login');
  await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached' });
  await page.getByLabel('Email').fill(rep.email);
  await page.getByLabel('Password', { exact: true }).fill(rep.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/rep$/);
  const cookies = await context.cookies();
  await context.close();
  return cookies;
}

function kind(url) {
  if (url.endsWith('.wasm')) return 'wasm';
  if (url.endsWith('.js')) return 'js';
  if (url.endsWith('.css')) return 'css';
  return 'html/other';
}

/** One first visit: a fresh context (empty cache), throttled. */
async function visit(path, device, network, cookies = []) {
  const context = await browser.newContext({
    baseURL: base,
    viewport: device.viewport,
    isMobile: device.isMobile,
    hasTouch: device.hasTouch,
  });
  await context.addCookies(cookies);
  const page = await context.newPage();
  // When the page says it is hydrated, on its own clock.
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.body?.dataset.hydrated === 'true') {
        window.__usableAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-hydrated'] });
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, ...NETWORKS[network] });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: device.cpu });
  const urls = new Map();
  const bytes = {};
  cdp.on('Network.responseReceived', (event) => urls.set(event.requestId, event.response.url));
  cdp.on('Network.loadingFinished', (event) => {
    const k = kind(urls.get(event.requestId) ?? '');
    bytes[k] = (bytes[k] ?? 0) + event.encodedDataLength;
  });
  await page.goto(path, { timeout: 180_000 });
  await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached', timeout: 180_000 });
  const [paint, usable] = await page.evaluate(() => [
    performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
    window.__usableAt ?? performance.now(),
  ]);
  await context.close();
  return { bytes, paint, usable };
}

const runs = small
  ? [['/', PHONE, '4G', 'phone']]
  : [
      ['/', PHONE, 'Fast 3G', 'phone'],
      ['/', PHONE, '4G', 'phone'],
      ['/login', PHONE, 'Fast 3G', 'phone'],
      ['/rep', LAPTOP, '4G', 'laptop'],
    ];
const cookies = runs.some(([path]) => path === '/rep') ? await signedIn() : [];
console.log('A first visit, empty cache (Chromium, DevTools throttling; phone: 4x slower CPU):');
console.log('  page     device  network   transferred (wasm / js / css / html+other)        first paint   usable');
for (const [path, device, network, name] of runs) {
  const { bytes, paint, usable } = await visit(path, device, network, path === '/rep' ? cookies : []);
  const total = Object.values(bytes).reduce((a, b) => a + b, 0);
  const kb = (n) => `${Math.round((n ?? 0) / 1000)}`;
  const split = `${kb(bytes.wasm)} / ${kb(bytes.js)} / ${kb(bytes.css)} / ${kb(bytes['html/other'])}`;
  console.log(
    `  ${path.padEnd(8)} ${name.padEnd(7)} ${network.padEnd(9)} ${`${kb(total)} kB (${split})`.padEnd(45)} ` +
      `${(paint / 1000).toFixed(2)} s        ${(usable / 1000).toFixed(2)} s`,
  );
}
await browser.close();
