// The embeddable widget: a shop's pages, served from another origin
// (localhost on its own port: another site than 127.0.0.1 for the
// browser), embed the loader with a key the admin made. A customer the
// shop identified asks for help by video in the panel, keeps their place
// while the shop's page changes, is matched and talks; a site not on the
// key's list gets nothing.
import { test, expect, Frame, FrameLocator, Locator, Page } from '@playwright/test';
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { addRepresentative, expectAccessible, flowsFrom, me, ownQueue, scrollsSideways, signIn, tabTo, ADMIN } from './helpers';
import { PORT } from '../playwright.config';

const SITE = `http://127.0.0.1:${PORT}`;
const WREN = { email: 'wren@example.com', name: 'Wren Widget', password: 'wren has a long password' };

/** The identify token the shop's backend signs: HS256 with the secret. */
function identity(secret: string, key: string, claims: object): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const exp = Math.floor(Date.now() / 1000) + 600;
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ ...claims, aud: key, jti: randomUUID(), exp })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/** A shop: /shop and /checkout embed the widget (and identify the
 * customer); /framed frames the panel directly. Host pages record the
 * widget's events in `window.widgetEvents`. */
async function shop(key: () => string, token: () => string): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const page = (body: string) => res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><html lang="en"><title>Shop</title>${body}`);
    if (req.url === '/framed') return page(`<iframe src="${SITE}/widget?key=${key()}"></iframe>`);
    if (req.url !== '/shop' && req.url !== '/checkout') return res.writeHead(404).end();
    page(`<h1>${req.url === '/shop' ? 'Our shop' : 'Checkout'}</h1><a href="/checkout">Checkout</a>
      <script>
        window.widgetEvents = [];
        window.Switchboard = window.Switchboard || function () { (Switchboard.q = Switchboard.q || []).push(arguments); };
        for (const event of ['status', 'open', 'close', 'unavailable']) {
          Switchboard('on', event, (detail) => widgetEvents.push({ event, ...detail }));
        }
        Switchboard('identify', ${JSON.stringify(token())});
      </script>
      <script src="${SITE}/widget.js" data-key="${key()}" async></script>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://localhost:${(server.address() as AddressInfo).port}` };
}

const events = (page: Page) => page.evaluate(() => (window as any).widgetEvents as { event: string; state?: string; position?: number }[]);

/** The panel's frame, once the loader opened it. */
const panel = (page: Page): FrameLocator => page.frameLocator('iframe[title="Talk to us"]');

test('a customer on another site asks for help in the widget, keeps their place across its pages and talks by video', async ({
  browser,
  page: admin,
}) => {
  test.setTimeout(120_000);
  addRepresentative(WREN);
  let key = '';
  let token = '';
  const allowed = await shop(() => key, () => token);
  const other = await shop(() => key, () => token);
  try {
    // The admin gives Wren a queue of her own and makes a key for the shop.
    const form = await ownQueue(admin, WREN, 'Shop help');
    await form.getByRole('button', { name: 'Create queue' }).click();
    await expect(admin.getByRole('status')).toHaveText('Saved "Shop help".');
    await signIn(admin, ADMIN.email, ADMIN.password, '/admin/widgets');
    await expectAccessible(admin, 'the admin\'s widgets');
    const adding = admin.locator('section', { has: admin.getByRole('heading', { name: 'Add a widget' }) });
    await adding.getByLabel('Name').fill('Shop');
    await adding.getByLabel(/Allowed sites/).fill(allowed.origin);
    await adding.getByLabel('Shop help').check();
    await adding.getByRole('button', { name: 'Add widget' }).click();
    const secret = (await admin.getByTestId('new-secret').getByTestId('secret').textContent())!.trim();
    const card = admin.locator('section[data-widget="Shop"]');
    key = (await card.getByTestId('widget-key').textContent())!.trim();
    await expect(card.getByTestId('snippet')).toContainText(`src="${SITE}/widget.js" data-key="${key}"`);
    token = identity(secret, key, { name: 'Wanda Known', email: 'wanda@example.com', sub: 'shop-customer-7' });

    // Wren is at her desk (the queue takes no one while nobody is), not
    // ready yet.
    const desk = await (await browser.newContext()).newPage();
    await signIn(desk, WREN.email, WREN.password);
    await expect(desk.getByTestId('agent-state')).toHaveText(/Not ready/);

    // The customer, on a phone (320 CSS px wide), opens the shop, then the
    // widget, with the keyboard: the panel is a dialog named like the
    // button and takes the focus; Escape in it closes it and gives the
    // focus back to the button.
    const customer = await (await browser.newContext({ viewport: { width: 320, height: 640 } })).newPage();
    await customer.goto(`${allowed.origin}/shop`);
    const button = customer.getByRole('button', { name: 'Talk to us' });
    const focused = (element: Locator) => element.evaluate((e) => (e.getRootNode() as Document).activeElement === e);
    await tabTo(customer, button);
    await customer.keyboard.press('Enter');
    const dialog = customer.getByRole('dialog', { name: 'Talk to us' });
    await expect(dialog).toBeVisible();
    const frame = panel(customer);
    await expect(frame.locator('body[data-hydrated="true"]')).toBeAttached();
    await expect.poll(() => focused(customer.locator('iframe[title="Talk to us"]'))).toBe(true);
    // The panel hears Escape once it has greeted the loader: pressed until then.
    await expect.poll(async () => {
      if (await dialog.isVisible()) await customer.keyboard.press('Escape');
      return dialog.isHidden();
    }).toBe(true);
    expect(await focused(button)).toBe(true);
    await customer.keyboard.press('Enter');
    await expect(dialog).toBeVisible();
    // The shop identified the customer: their name is the one it vouched for.
    await expect(frame.getByTestId('identified-as')).toHaveText('Signed in as Wanda Known (wanda@example.com)');
    await expect(frame.getByLabel('Your name')).toHaveValue('Wanda Known');
    const panelFrame = () => customer.frames().find((f) => new URL(f.url()).pathname === '/widget')!;
    await expectAccessible(customer, 'a company\'s page with the widget open');
    await expectAccessible(panelFrame(), 'the widget\'s panel, the form');
    expect(await scrollsSideways(panelFrame()), 'the panel reflows at 280 CSS px').toBe(false);
    await frame.getByLabel('What do you need help with?').fill('My order has not arrived');
    await frame.getByLabel('Video', { exact: true }).check();
    await frame.getByRole('button', { name: 'Talk to a representative' }).click();
    await expect(frame.getByTestId('position')).toHaveText('1');
    await expect.poll(async () => (await events(customer)).some((e) => e.event === 'status' && e.state === 'waiting' && e.position === 1)).toBe(true);
    await expectAccessible(panelFrame(), 'the widget\'s panel, waiting');
    expect(await scrollsSideways(panelFrame()), 'the panel, waiting, reflows').toBe(false);
    // On a wider screen the panel leaves the shop's links in view.
    await customer.setViewportSize({ width: 1280, height: 720 });

    // The shop's page changes: the panel opens again in the same place.
    await customer.getByRole('link', { name: 'Checkout' }).click();
    await expect(customer.getByRole('heading', { name: 'Checkout' })).toBeVisible();
    await expect(panel(customer).getByTestId('position')).toHaveText('1');
    await expect(customer.getByRole('button', { name: 'You are number 1 in line' })).toBeVisible();

    // Wren is ready, answers, and sees who the shop said the customer is.
    await desk.getByRole('button', { name: 'Ready', exact: true }).click();
    const offer = desk.getByTestId('offer').filter({ hasText: 'Wanda Known' });
    await offer.getByRole('button', { name: 'Accept' }).click();
    const mine = desk.getByTestId('my-customer').filter({ hasText: 'Wanda Known' });
    await expect(mine).toBeVisible();
    await expect(mine.getByTestId('identified')).toBeVisible();
    await expect(mine.getByTestId('verified-email')).toHaveText('wanda@example.com');
    const session = (await mine.getAttribute('data-session'))!;

    // Media flows both ways through the shop's page.
    await expect(panel(customer).getByTestId('matched')).toHaveText(`You're talking with Wren`);
    const inPanel = customer.frames().find((f: Frame) => f.url().startsWith(`${SITE}/widget`))!;
    await flowsFrom(inPanel, await me(desk, session));
    await flowsFrom(desk, 'customer', session);
    await panel(customer).getByRole('button', { name: 'End conversation' }).click();
    await expect(panel(customer).getByTestId('ended')).toBeVisible();

    // A site not on the key's list: the loader shows nothing, and the
    // panel framed directly is refused by the browser.
    const stranger = await (await browser.newContext()).newPage();
    await stranger.goto(`${other.origin}/shop`);
    await expect.poll(async () => (await events(stranger)).map((e) => e.event)).toContain('unavailable');
    await expect(stranger.locator('[data-switchboard-widget]')).toHaveCount(0);
    await stranger.goto(`${other.origin}/framed`);
    await expect.poll(() => stranger.frames().find((f) => f !== stranger.mainFrame())?.url()).toBe('chrome-error://chromewebdata/');
    // The allowed shop may frame it.
    await customer.goto(`${allowed.origin}/framed`);
    await expect(customer.frameLocator('iframe').locator('body[data-hydrated="true"]')).toBeAttached();
  } finally {
    allowed.server.close();
    other.server.close();
  }
});
