// Benchmark: time from the representative's Accept to the first decoded
// video frame on each side, over real calls in Chromium with fake camera and
// microphone (run by scripts/bench-call, which starts the server). Prints
// figures; asserts nothing.
import { chromium } from '@playwright/test';

const base = process.env.BENCH_URL;
const calls = Number(process.env.BENCH_CALLS ?? 10);
const rep = { email: process.env.BENCH_REP_EMAIL, password: process.env.BENCH_REP_PASSWORD };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required',
  ],
});

async function hydrated(page) {
  await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached' });
}

/** Wall-clock time (ms) when the page's call first decodes a video frame. */
function firstFrame(page) {
  return page.evaluate(async () => {
    for (;;) {
      for (const call of (window.switchboardCalls ?? new Map()).values()) {
        if (!call.pc) continue;
        let frames = 0;
        (await call.pc.getStats()).forEach((r) => {
          if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded ?? 0;
        });
        if (frames > 0) return Date.now();
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  });
}

const desk = await (await browser.newContext({ baseURL: base })).newPage();
await desk.goto('/login');
await hydrated(desk);
await desk.getByLabel('Email').fill(rep.email);
await desk.getByLabel('Password', { exact: true }).fill(rep.password);
await desk.getByRole('button', { name: 'Sign in' }).click();
await desk.waitForURL(/\/rep$/);
await hydrated(desk);
await desk.getByRole('button', { name: 'Ready', exact: true }).click();
await desk.getByTestId('agent-state').filter({ hasText: /^Ready$/ }).waitFor();

const customerSide = [];
const deskSide = [];
for (let i = 1; i <= calls; i++) {
  const context = await browser.newContext({ baseURL: base });
  const customer = await context.newPage();
  await customer.goto('/');
  await hydrated(customer);
  await customer.getByLabel('Your name').fill(`Bench customer ${i}`);
  await customer.getByLabel('What do you need help with?').fill('A benchmark call');
  await customer.getByLabel('Video', { exact: true }).check();
  await customer.getByRole('button', { name: 'Talk to a representative' }).click();
  await customer.getByTestId('customer-status').waitFor();
  await hydrated(customer);

  const offer = desk.getByTestId('offer').filter({ hasText: `Bench customer ${i}` });
  await offer.waitFor();
  const accepted = Date.now();
  await offer.getByRole('button', { name: 'Accept' }).click();
  const [customerAt, deskAt] = await Promise.all([firstFrame(customer), firstFrame(desk)]);
  customerSide.push(customerAt - accepted);
  deskSide.push(deskAt - accepted);

  const card = desk.getByTestId('my-customer').filter({ hasText: `Bench customer ${i}` });
  await card.getByRole('button', { name: 'End', exact: true }).click();
  await card.getByRole('button', { name: 'Done' }).click();
  await card.waitFor({ state: 'detached' });
  await context.close();
}
await browser.close();

function figures(label, values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  console.log(`  ${label}: p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${sorted[sorted.length - 1]} ms`);
}
console.log(`Accept to the first decoded video frame (${calls} calls, Chromium fake devices, loopback):`);
figures("customer's page", customerSide);
figures("representative's page", deskSide);
