// Benchmark, over real calls in Chromium with fake camera and microphone
// (run by scripts/bench-call, which starts the server): the time from the
// representative's Accept to the first decoded video frame on each side; the
// time from a colleague's Accept of "Add a colleague" to the first frame on
// their page; and the CPU the customer's browser uses in a three-party video
// call. Prints figures; asserts nothing.
import { chromium } from '@playwright/test';

const base = process.env.BENCH_URL;
const calls = Number(process.env.BENCH_CALLS ?? 10);
const conferences = Number(process.env.BENCH_CONFERENCES ?? 5);
const cpuSeconds = Number(process.env.BENCH_CPU_SECONDS ?? 20);
const rep = { email: process.env.BENCH_REP_EMAIL, password: process.env.BENCH_REP_PASSWORD };
const colleague = { email: process.env.BENCH_COLLEAGUE_EMAIL, password: process.env.BENCH_COLLEAGUE_PASSWORD };

const launch = () =>
  chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required',
    ],
  });
const browser = await launch();

async function hydrated(page) {
  await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached' });
}

/** Wall-clock time (ms) when the page's call first decodes a video frame
 * (from any of its peers). */
function firstFrame(page) {
  return page.evaluate(async () => {
    for (;;) {
      for (const call of (window.switchboardCalls ?? new Map()).values()) {
        for (const peer of call.peers?.values() ?? []) {
          if (!peer.pc) continue;
          let frames = 0;
          (await peer.pc.getStats()).forEach((r) => {
            if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded ?? 0;
          });
          if (frames > 0) return Date.now();
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  });
}

/** A desk signed in and Ready. */
async function openDesk(who) {
  const page = await (await browser.newContext({ baseURL: base })).newPage();
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/rep$/);
  await hydrated(page);
  await page.getByRole('button', { name: 'Ready', exact: true }).click();
  await page.getByTestId('agent-state').filter({ hasText: /^Ready$/ }).waitFor();
  return page;
}

/** A customer asking for a video call, in `where` (a browser). */
async function videoCustomer(where, name) {
  const context = await where.newContext({ baseURL: base });
  const customer = await context.newPage();
  await customer.goto('/');
  await hydrated(customer);
  await customer.getByLabel('Your name').fill(name);
  await customer.getByLabel('What do you need help with?').fill('A benchmark call');
  await customer.getByLabel('Video', { exact: true }).check();
  await customer.getByRole('button', { name: 'Talk to a representative' }).click();
  await customer.getByTestId('customer-status').waitFor();
  await hydrated(customer);
  return customer;
}

/** Ends a desk's conversation with `name` and wraps it up. */
async function finish(page, name, { end }) {
  const card = page.getByTestId('my-customer').filter({ hasText: name });
  if (end) await card.getByRole('button', { name: 'End', exact: true }).click();
  await card.getByRole('button', { name: 'Done' }).click();
  await card.waitFor({ state: 'detached' });
}

const desk = await openDesk(rep);

const customerSide = [];
const deskSide = [];
for (let i = 1; i <= calls; i++) {
  const customer = await videoCustomer(browser, `Bench customer ${i}`);

  const offer = desk.getByTestId('offer').filter({ hasText: `Bench customer ${i}` });
  await offer.waitFor();
  const accepted = Date.now();
  await offer.getByRole('button', { name: 'Accept' }).click();
  const [customerAt, deskAt] = await Promise.all([firstFrame(customer), firstFrame(desk)]);
  customerSide.push(customerAt - accepted);
  deskSide.push(deskAt - accepted);

  await finish(desk, `Bench customer ${i}`, { end: true });
  await customer.context().close();
}

// Conferences: the representative asks their colleague by name to join a
// call in progress; timed from the colleague's Accept. The last one stays
// up while the customer's browser (one of its own, so its processes are
// the customer's alone) is measured.
const helper = await openDesk(colleague);
const customerBrowser = await launch();
const joining = [];
let cpu = null;
for (let i = 1; i <= conferences; i++) {
  const name = `Conference customer ${i}`;
  const customer = await videoCustomer(i === conferences ? customerBrowser : browser, name);
  await desk.getByTestId('offer').filter({ hasText: name }).getByRole('button', { name: 'Accept' }).click();
  await firstFrame(customer);
  const card = desk.getByTestId('my-customer').filter({ hasText: name });
  await card.getByTestId('conference-open').click();
  const chooser = card.getByTestId('conference-target');
  await chooser.selectOption(await chooser.locator('option', { hasText: 'Bench Colleague' }).getAttribute('value'));
  await card.getByTestId('conference-send').click();
  const offer = helper.getByTestId('offer').filter({ hasText: name });
  await offer.waitFor();
  const accepted = Date.now();
  await offer.getByRole('button', { name: 'Accept' }).click();
  joining.push((await firstFrame(helper)) - accepted);

  if (i === conferences) {
    // Every pair flowing, then the customer's browser's CPU over a while.
    await customer.waitForFunction(() => [...window.switchboardCalls.values()][0]?.peers?.size === 2);
    await new Promise((r) => setTimeout(r, 3000));
    const cdp = await customerBrowser.newBrowserCDPSession();
    const used = async () => (await cdp.send('SystemInfo.getProcessInfo')).processInfo.reduce((sum, p) => sum + p.cpuTime, 0);
    const [cpuBefore, wallBefore] = [await used(), Date.now()];
    await new Promise((r) => setTimeout(r, cpuSeconds * 1000));
    const [cpuAfter, wallAfter] = [await used(), Date.now()];
    cpu = (100 * (cpuAfter - cpuBefore)) / ((wallAfter - wallBefore) / 1000);
  }
  await finish(desk, name, { end: true });
  await finish(helper, name, { end: false });
  await customer.context().close();
}
await customerBrowser.close();
await browser.close();

function figures(label, values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  console.log(`  ${label}: p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${sorted[sorted.length - 1]} ms`);
}
console.log(`Accept to the first decoded video frame (${calls} calls, Chromium fake devices, loopback):`);
figures("customer's page", customerSide);
figures("representative's page", deskSide);
console.log(`A colleague's Accept of "Add a colleague" to the first decoded video frame on their page (${conferences} conferences):`);
figures("colleague's page", joining);
console.log(
  `CPU of the customer's browser (all its processes) in a three-party video call, over ${cpuSeconds} s: ${cpu.toFixed(0)}% of one core`,
);
