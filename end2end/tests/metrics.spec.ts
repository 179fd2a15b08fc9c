// The admin's dashboard: figures with their definitions, charts, a CSV
// download equal to its table, and "waiting now" moving live when a
// customer enters the queue.
import { test, expect, Page } from '@playwright/test';
import * as fs from 'node:fs';
import { ADMIN, addRepresentative, expectAccessible, open, signIn } from './helpers';

test.describe.configure({ mode: 'serial' });

const AGENT = { email: 'mona@example.com', name: 'Mona Metrics', password: 'mona has a long password' };

test.beforeAll(() => addRepresentative(AGENT));

function generalRow(page: Page) {
  return page.getByTestId('live-queue').filter({ has: page.getByRole('cell', { name: 'General', exact: true }) });
}

async function number(page: Page, locator: ReturnType<Page['locator']>) {
  return Number(await locator.textContent());
}

test('the admin sees the figures and charts, downloads a table, and watches waiting now change live', async ({ browser, page }) => {
  await signIn(page, ADMIN.email, ADMIN.password, '/admin');
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  await expect(page.getByRole('heading', { name: 'Service dashboard' })).toBeVisible();
  await expectAccessible(page, 'the service dashboard');

  // Live: a representative opens the desk; a customer enters General.
  const waiting = generalRow(page).getByTestId('waiting-now');
  const before = await number(page, waiting);
  const offeredToday = generalRow(page).locator('td').nth(3);
  const offeredBefore = await number(page, offeredToday);

  const deskContext = await browser.newContext();
  const desk = await deskContext.newPage();
  await signIn(desk, AGENT.email, AGENT.password);
  await expect(desk).toHaveURL(/\/rep$/);
  await expect(page.getByTestId('agents-not-ready')).not.toHaveText('0');

  const customerContext = await browser.newContext();
  const customer = await customerContext.newPage();
  await open(customer, '/');
  await customer.getByLabel('Your name').fill('Metric Customer');
  await customer.getByLabel('What do you need help with?').fill('Checking the dashboard');
  await customer.getByLabel('Chat').check();
  await customer.getByRole('button', { name: 'Talk to a representative' }).click();
  await expect(customer.getByTestId('customer-status')).toBeVisible();

  // No reload: the number changes where the admin is looking.
  await expect(waiting).toHaveText(String(before + 1));
  await expect(offeredToday).toHaveText(String(offeredBefore + 1));

  // The customer leaves; the board follows.
  await customer.getByRole('button', { name: 'Leave queue' }).click();
  await expect(waiting).toHaveText(String(before));

  // Shown again (a new load): today's figures include that customer, with definitions.
  await open(page, '/admin');
  expect(await number(page, page.getByTestId('offered'))).toBeGreaterThan(0);
  // The customer who left counts as abandoned, or as a short abandon when
  // quick, once rolled up (within a second or so).
  await expect
    .poll(async () => {
      await open(page, '/admin');
      return (await number(page, page.getByTestId('abandoned'))) + (await number(page, page.getByTestId('short-abandons')));
    })
    .toBeGreaterThan(0);
  await expect(page.getByTestId('service-level')).toHaveText(/^(\d+\.\d%|n\/a)$/);
  await expect(page.getByText('Answered within the queue\'s threshold T ÷ (answered + abandoned after T)', { exact: false })).toBeVisible();
  await expect(page.getByText('Abandoned ÷ (answered + abandoned).')).toBeVisible();
  // How often the estimated wait held: a figure, its definition, and a
  // table by queue and channel with its CSV.
  await expect(page.getByTestId('estimate-accuracy')).toHaveText(/^(\d+\.\d%|n\/a)$/);
  await expect(page.getByText('fell inside the range they were first shown').first()).toBeVisible();
  await expect(page.getByTestId('table-estimates').locator('thead')).toContainText('Estimate accuracy (%)');
  await expect(page.getByTestId('csv-estimates')).toBeVisible();

  // The charts are SVG drawn by the page, with bars for today's hours.
  const hours = page.getByTestId('chart-hours');
  await expect(hours.locator('svg')).toBeVisible();
  await expect(hours.locator('rect.answered')).toHaveCount(24);
  await expect(hours.locator('text.tick', { hasText: /^12$/ })).toBeVisible();
  await expect(page.getByTestId('chart-days').locator('svg')).toBeVisible();
  // In words for those who do not see it: described, with its table named.
  await expect(hours.locator('svg')).toHaveAccessibleDescription(/^Bars: customers offered.*The busiest is .*Every figure is in the table “By hour of day” below\.$/);

  // The CSV download has exactly the cells of the table. (Both are read
  // again when a figure moved in between: the roller may count a customer
  // who just left after the table was read.)
  await expect(async () => {
    await open(page, '/admin');
    const table = page.getByTestId('table-queues');
    const shown = await table.locator('tr').evaluateAll((rows) =>
      rows.map((row) => Array.from(row.querySelectorAll('th, td')).map((cell) => cell.textContent ?? '')),
    );
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('csv-queues').click()]);
    const csv = fs.readFileSync(await download.path(), 'utf8').trim().split('\n').map((line) => line.split(','));
    expect(csv).toEqual(shown);
    expect(download.suggestedFilename()).toMatch(/^switchboard-queues-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
  }).toPass({ timeout: 20_000 });

  // Another range: the last 7 days, one row per day in the days table.
  await page.getByLabel('Range').selectOption('7d');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/span=7d/);
  await expect(page.getByTestId('table-days').locator('tbody tr')).toHaveCount(7);
  // A wrong day gets a clear message.
  await open(page, '/admin?span=custom&from=2026-02-30&to=2026-03-01');
  await expect(page.getByRole('alert')).toContainText('The first day must be a date like 2026-03-10');

  await deskContext.close();
  await customerContext.close();
});
