import { expect, Frame, Locator, Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { SERVER_BIN } from '../playwright.config';

/** Adds a representative with the command line (they join "General"). */
export function addRepresentative(who: { email: string; name: string; password: string }, role = 'agent') {
  execFileSync(
    SERVER_BIN,
    ['user', 'add', '--email', who.email, '--name', who.name, '--role', role],
    { input: `${who.password}\n`, env: { ...process.env, DATABASE_URL: process.env.E2E_DATABASE_URL, RUST_LOG: 'warn' } },
  );
}

/** Opens a page and waits until it is hydrated (interactive). */
export async function open(page: Page, url: string) {
  const response = await page.goto(url);
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  return response;
}

/** axe-core, run in the page by `expectAccessible`. */
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
/** The WCAG 2.0, 2.1 and 2.2 level A and AA rules. */
const WCAG_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];

/** Fails when axe-core finds a WCAG 2.2 A or AA violation in the page (or
 * the frame) as it is now; `state` names it in the failure. */
export async function expectAccessible(target: Page | Frame, state: string) {
  // Evaluated, not added as a script tag: the pages' CSP refuses inline scripts.
  await target.evaluate(`window.axe || (() => { ${AXE}\n })()`);
  const violations = await target.evaluate(async (tags) => {
    const axe = (window as any).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: tags } });
    return result.violations.map(
      (violation: { id: string; help: string; nodes: { target: string[] }[] }) =>
        `${violation.id} (${violation.help}): ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`,
    );
  }, WCAG_AA);
  expect(violations, `WCAG 2.2 AA violations at: ${state}`).toEqual([]);
}

/** Presses Tab (Shift+Tab with `back`) until `target` has the focus, as
 * a keyboard user would, and fails if it is not reached in `most` presses.
 * There it checks what the user sees: the focus drawn (an outline, WCAG
 * 2.4.7), in the window, and not covered by anything (2.4.11). */
export async function tabTo(page: Page, target: Locator, { back = false, most = 60 } = {}) {
  await expect(target).toBeVisible();
  for (let press = 0; press <= most; press++) {
    // The root: the document, or the shadow root of a widget's button.
    if (await target.evaluate((element) => (element.getRootNode() as Document).activeElement === element)) {
      const seen = await target.evaluate((element) => {
        const style = getComputedStyle(element);
        const box = element.getBoundingClientRect();
        const [x, y] = [box.left + box.width / 2, box.top + box.height / 2];
        const view = element.ownerDocument.defaultView!;
        const top = (element.getRootNode() as Document).elementFromPoint(x, y);
        return {
          outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
          inView: x >= 0 && y >= 0 && x <= view.innerWidth && y <= view.innerHeight,
          uncovered: !!top && (top === element || element.contains(top) || top.contains(element)),
        };
      });
      expect(seen, `the focus on ${target} is seen`).toEqual({ outline: true, inView: true, uncovered: true });
      return;
    }
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`${target} was not reached with ${most} presses of ${back ? 'Shift+Tab' : 'Tab'}`);
}

/** Whether the page scrolls sideways (WCAG 1.4.10 reflow: it must not). */
export async function scrollsSideways(target: Page | Frame): Promise<boolean> {
  return target.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
}

/** Fills the sign-in form and sends it. */
export async function submitSignIn(page: Page, email: string, password: string, next = '') {
  await open(page, next ? `/login?next=${encodeURIComponent(next)}` : '/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Signs in and waits until the page it leads to is hydrated: a click on
 * a page not yet hydrated changes the DOM but not what the page sends (a
 * queue's members unchecked before hydration were saved unchanged). */
export async function signIn(page: Page, email: string, password: string, next = '') {
  await submitSignIn(page, email, password, next);
  await page.waitForURL((url) => url.pathname !== '/login');
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
}

export const ADMIN = {
  email: 'owner@example.com',
  name: 'Olivia Owner',
  password: 'olivia has a long password',
};

export const REP = {
  email: 'rita@example.com',
  name: 'Rita Rep',
  password: 'rita has a long password',
};

/** Inbound bytes from one peer of a page's call ("customer" or a
 * representative's id): audio and video; with `forwarded`, the customer's
 * media as that peer forwards it (the pair's second set of tracks). */
export async function fromPeer(
  page: Page | Frame,
  party: string,
  session?: string,
  forwarded = false,
): Promise<{ audio: number; video: number }> {
  return page.evaluate(
    async ({ party, session, forwarded }) => {
      const calls: Map<string, any> = (window as any).switchboardCalls ?? new Map();
      const call = session ? calls.get(session) : [...calls.values()][0];
      const pc: RTCPeerConnection | undefined = call?.peers?.get(party)?.pc;
      const totals = { audio: 0, video: 0 };
      if (!pc) return totals;
      for (const [index, transceiver] of pc.getTransceivers().entries()) {
        if ((index >= call.kinds.length) !== forwarded) continue;
        (await transceiver.receiver.getStats()).forEach((r: any) => {
          if (r.type === 'inbound-rtp') totals[r.kind as 'audio' | 'video'] += r.bytesReceived ?? 0;
        });
      }
      return totals;
    },
    { party, session, forwarded },
  );
}

/** Waits until audio and video from `party` (or forwarded by them) rise
 * over a second. */
export async function flowsFrom(page: Page | Frame, party: string, session?: string, forwarded = false) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const a = await fromPeer(page, party, session, forwarded);
    await sleep(1000);
    const b = await fromPeer(page, party, session, forwarded);
    if (b.audio > a.audio && b.video > a.video) return;
    if (Date.now() > deadline) throw new Error(`no media ${forwarded ? 'forwarded by' : 'from'} ${party}: ${JSON.stringify({ a, b })}`);
  }
}

/** Makes the page count every WebRTC connection it opens, whoever opens
 * it (`openConnections`). */
export async function countConnections(page: Page) {
  await page.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    const opened: RTCPeerConnection[] = ((window as any).openedConnections = []);
    window.RTCPeerConnection = class extends Native {
      constructor(...args: ConstructorParameters<typeof RTCPeerConnection>) {
        super(...args);
        opened.push(this);
      }
    } as typeof RTCPeerConnection;
  });
}

/** How many of the page's WebRTC connections are not closed, and the
 * parties its call has peers for. */
export async function openConnections(page: Page): Promise<{ open: number; parties: string[] }> {
  return page.evaluate(() => {
    const opened: RTCPeerConnection[] = (window as any).openedConnections ?? [];
    const calls: Map<string, any> = (window as any).switchboardCalls ?? new Map();
    return {
      open: opened.filter((pc) => pc.connectionState !== 'closed').length,
      parties: [...calls.values()].flatMap((call) => [...call.peers.keys()]).sort(),
    };
  });
}

/** Waits until nothing more arrives from `party` (audio and video bytes
 * stand still over a second). */
export async function noneFrom(page: Page, party: string, session?: string) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const a = await fromPeer(page, party, session);
    await sleep(1200);
    const b = await fromPeer(page, party, session);
    if (b.audio === a.audio && b.video === a.video) return;
    if (Date.now() > deadline) throw new Error(`media from ${party} does not stop: ${JSON.stringify({ a, b })}`);
  }
}

/** The participant a desk's call speaks as (its representative's id). */
export async function me(desk: Page, session: string): Promise<string> {
  await expect.poll(() => desk.evaluate((id) => (window as any).switchboardCalls?.get(id)?.me ?? null, session)).not.toBeNull();
  return desk.evaluate((id) => (window as any).switchboardCalls.get(id).me, session);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/** The admin starts a queue of `who`'s own, taking them out of "General"
 * (where earlier tests leave customers waiting): the new queue's form, named
 * and with them as its member, for the caller to finish and create. */
export async function ownQueue(admin: Page, who: { name: string }, queue: string): Promise<Locator> {
  await signIn(admin, ADMIN.email, ADMIN.password, '/admin/queues');
  const general = admin.getByTestId('queue').filter({ has: admin.getByRole('heading', { name: 'General', exact: true }) });
  await general.getByLabel(`${who.name} serves this queue`).uncheck();
  await general.getByRole('button', { name: 'Save' }).click();
  await expect(admin.getByRole('status')).toHaveText('Saved "General".');
  const form = admin.getByTestId('new-queue');
  await form.getByLabel('Name').fill(queue);
  await form.getByLabel(`${who.name} serves this queue`).check();
  return form;
}
