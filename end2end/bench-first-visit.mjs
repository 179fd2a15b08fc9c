// Benchmark (run by scripts/bench-call, which starts the server): a first
// visit with an empty cache, as issue 32 measures it. Chromium throttled by
// DevTools: a phone (390x844, 4x slower CPU) on "Fast 3G" (1.6 Mbit/s down,
// 750 kbit/s up, 150 ms) and on "4G" (9 Mbit/s, 40 ms) for the customer's
// page, the widget's panel on a company's page and the sign-in page; a
// laptop (no CPU slowdown) on 4G for the desk and the admin's dashboard.
// For each: bytes transferred by kind of asset (compressed, as sent), the
// first paint, and when the page is usable (hydrated: body[data-hydrated]).
// Prints figures; asserts nothing.
import { createServer } from 'node:http';
import { chromium } from '@playwright/test';

const base = process.env.BENCH_URL;
const small = !!process.env.BENCH_SMALL;
const rep = { email: process.env.BENCH_REP_EMAIL, password: process.env.BENCH_REP_PASSWORD };
const admin = { email: process.env.BENCH_ADMIN_EMAIL, password: process.env.BENCH_ADMIN_PASSWORD };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    // The widget's panel (another site than the company's page) in the
    // page's process, so that the page's throttling and counting cover it.
    '--disable-site-isolation-trials', '--disable-features=site-per-process,IsolateOrigins',
  ],
});

const NETWORKS = {
  'Fast 3G': { latency: 150, downloadThroughput: (1.6 * 1e6) / 8, uploadThroughput: (750 * 1e3) / 8 },
  '4G': { latency: 40, downloadThroughput: (9 * 1e6) / 8, uploadThroughput: (9 * 1e6) / 8 },
};
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, cpu: 4 };
const LAPTOP = { viewport: { width: 1366, height: 768 }, isMobile: false, hasTouch: false, cpu: 1 };

/** The cookies of a member of the team signed in. */
async function signedIn(who) {
  const context = await browser.newContext({ baseURL: base });
  const page = await context.newPage();
  await page.goto('/login');
  await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached' });
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/(rep|admin)$/);
  const cookies = await context.cookies();
  await context.close();
  return cookies;
}

/** A widget for `origin` offering "General", made on /admin/widgets; its key. */
async function widgetKey(cookies, origin) {
  const context = await browser.newContext({ baseURL: base });
  await context.addCookies(cookies);
  const page = await context.newPage();
  await page.goto('/admin/widgets');
  await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached' });
  const adding = page.locator('section', { has: page.getByRole('heading', { name: 'Add a widget' }) });
  await adding.getByLabel('Name').fill('Bench shop');
  await adding.getByLabel(/Allowed sites/).fill(origin);
  await adding.getByLabel('General').check();
  await adding.getByRole('button', { name: 'Add widget' }).click();
  const key = (await page.locator('section[data-widget="Bench shop"]').getByTestId('widget-key').textContent()).trim();
  await context.close();
  return key;
}

/** A company's page on another site (localhost, not 127.0.0.1) with the
 * widget's loader, as the admin page gives it. */
async function hostPage() {
  const host = { key: '' };
  host.server = createServer((_, res) =>
    res.writeHead(200, { 'content-type': 'text/html' }).end(
      `<!doctype html><title>Shop</title><h1>Our shop</h1><script src="${base}/widget.js" data-key="${host.key}" async></script>`,
    ),
  );
  await new Promise((resolve) => host.server.listen(0, '127.0.0.1', resolve));
  host.origin = `http://localhost:${host.server.address().port}`;
  return host;
}

function kind(url) {
  if (url.endsWith('.wasm')) return 'wasm';
  if (url.endsWith('.js')) return 'js';
  if (url.endsWith('.css')) return 'css';
  return 'html/other';
}

/** A fresh context (empty cache), throttled, counting the bytes it receives
 * by kind. */
async function throttled(device, network, cookies) {
  const context = await browser.newContext({
    baseURL: base,
    viewport: device.viewport,
    isMobile: device.isMobile,
    hasTouch: device.hasTouch,
  });
  await context.addCookies(cookies);
  const page = await context.newPage();
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
  return { context, page, bytes };
}

/** One first visit of a page. */
async function visit(path, device, network, cookies) {
  const { context, page, bytes } = await throttled(device, network, cookies);
  // When the page says it is hydrated, on its own clock.
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.body?.dataset.hydrated === 'true') {
        window.__usableAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-hydrated'] });
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

/** The widget on a company's page: the page loaded, the customer opens the
 * panel; "first paint" is the panel's, both times from the click. */
async function visitWidget(host, device, network) {
  const { context, page, bytes } = await throttled(device, network, []);
  await page.goto(host, { waitUntil: 'load', timeout: 180_000 });
  await page.getByRole('button', { name: 'Talk to us' }).waitFor({ timeout: 180_000 });
  const clicked = Date.now();
  await page.getByRole('button', { name: 'Talk to us' }).click();
  const panel = page.frameLocator('iframe[title="Talk to us"]');
  await panel.getByRole('button', { name: 'Talk to a representative' }).waitFor({ timeout: 180_000 });
  const paint = Date.now() - clicked;
  await panel.locator('body[data-hydrated="true"]').waitFor({ state: 'attached', timeout: 180_000 });
  const usable = Date.now() - clicked;
  await context.close();
  return { bytes, paint, usable };
}

const runs = small
  ? [['/', PHONE, '4G', 'phone']]
  : [
      ['/', PHONE, 'Fast 3G', 'phone'],
      ['/', PHONE, '4G', 'phone'],
      ['widget', PHONE, 'Fast 3G', 'phone'],
      ['widget', PHONE, '4G', 'phone'],
      ['/login', PHONE, 'Fast 3G', 'phone'],
      ['/rep', LAPTOP, '4G', 'laptop'],
      ['/admin', LAPTOP, '4G', 'laptop'],
    ];
const cookies = {
  '/rep': runs.some(([path]) => path === '/rep') ? await signedIn(rep) : [],
  '/admin': runs.some(([path]) => path === '/admin' || path === 'widget') ? await signedIn(admin) : [],
};
let host;
if (runs.some(([path]) => path === 'widget')) {
  host = await hostPage();
  host.key = await widgetKey(cookies['/admin'], host.origin);
}
console.log('A first visit, empty cache (Chromium, DevTools throttling; phone: 4x slower CPU):');
console.log('  page     device  network   transferred (wasm / js / css / html+other)        first paint   usable');
for (const [path, device, network, name] of runs) {
  const { bytes, paint, usable } =
    path === 'widget'
      ? await visitWidget(`${host.origin}/`, device, network)
      : await visit(path, device, network, cookies[path] ?? []);
  const total = Object.values(bytes).reduce((a, b) => a + b, 0);
  const kb = (n) => `${Math.round((n ?? 0) / 1000)}`;
  const split = `${kb(bytes.wasm)} / ${kb(bytes.js)} / ${kb(bytes.css)} / ${kb(bytes['html/other'])}`;
  console.log(
    `  ${path.padEnd(8)} ${name.padEnd(7)} ${network.padEnd(9)} ${`${kb(total)} kB (${split})`.padEnd(45)} ` +
      `${(paint / 1000).toFixed(2)} s        ${(usable / 1000).toFixed(2)} s`,
  );
}
console.log('  (widget: a company\'s page with the loader; times from the click on "Talk to us" to the panel\'s form, and to the panel usable)');
host?.server.close();
await browser.close();
