// The host page's side of the widget (server/src/widget/loader.js), run in
// a fake page: it shows nothing until the server says the key may be
// shown, talks only to the panel's window on the server's origin, answers
// `ready` with `hello` (and the identify token the page gave), and passes
// `status` on to the page's listeners.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

const SERVER = 'https://help.example';
const source = readFileSync(new URL('../../server/src/widget/loader.js', import.meta.url), 'utf8');

/** A fake element: enough of the DOM for what the loader draws. */
function element(tag) {
  return {
    tag,
    children: [],
    attributes: {},
    style: { setProperty() {} },
    hidden: false,
    textContent: '',
    setAttribute(name, value) { this.attributes[name] = value; },
    getAttribute(name) { return this.attributes[name] ?? null; },
    appendChild(child) { this.children.push(child); return child; },
    addEventListener() {},
    attachShadow() { this.shadowRoot = element('#shadow'); return this.shadowRoot; },
  };
}

/** A page with the loader's script tag, and the server's config answer. */
function page(config = { switchboard: 1, accent: '#2457c5', label: 'Talk to us' }) {
  class HTMLScriptElement {}
  const script = Object.assign(new HTMLScriptElement(), {
    src: `${SERVER}/widget.js`,
    getAttribute: (name) => (name === 'data-key' ? 'wk_test' : null),
  });
  const frames = [];
  const body = element('body');
  const messageHandlers = [];
  const window = {
    addEventListener: (type, handler) => type === 'message' && messageHandlers.push(handler),
  };
  const document = {
    currentScript: script,
    body,
    createElement(tag) {
      const made = element(tag);
      if (tag === 'iframe') {
        made.contentWindow = { sent: [], postMessage(message, origin) { this.sent.push([message, origin]); } };
        frames.push(made);
      }
      return made;
    },
    addEventListener() {},
  };
  const context = vm.createContext({
    window,
    document,
    HTMLScriptElement,
    location: { href: 'https://shop.example/' },
    URL,
    sessionStorage: { getItem: () => null, setItem() {} },
    AbortController,
    setTimeout,
    clearTimeout,
    fetch: async () => ({ ok: config !== null, json: async () => config }),
    CSSStyleSheet: undefined,
    encodeURIComponent,
    JSON,
  });
  context.window.Switchboard = undefined;
  vm.runInContext(source, context);
  return {
    api: context.window.Switchboard,
    body,
    frames,
    /** A message arriving at the host page. */
    arrive(data, origin = SERVER, source = frames[0]?.contentWindow) {
      for (const handler of messageHandlers) handler({ data, origin, source });
    },
  };
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 0));
/** A value made in the page's context, as plain data (another realm's
 * objects are never deep-equal to ours). */
const plain = (value) => JSON.parse(JSON.stringify(value));

test('a key the server refuses draws nothing and says so', async () => {
  const host = page(null);
  const said = [];
  host.api('on', 'unavailable', () => said.push('unavailable'));
  await settled();
  assert.deepEqual(host.body.children, []);
  assert.deepEqual(said, ['unavailable']);
});

test('the panel is answered on the server origin only, with the page identify token', async () => {
  const host = page();
  host.api('identify', 'jwt-for-jane');
  await settled();
  assert.equal(host.body.children.length, 1, 'the button and its panel');
  host.api('open');
  assert.equal(host.frames.length, 1);
  const frame = host.frames[0];
  assert.equal(frame.src, `${SERVER}/widget?key=wk_test`);

  host.arrive({ switchboard: 1, type: 'ready' }, 'https://evil.example');
  host.arrive({ switchboard: 1, type: 'ready' }, SERVER, { postMessage() {} });
  host.arrive({ switchboard: 2, type: 'ready' });
  assert.deepEqual(frame.contentWindow.sent, [], 'nothing answers a stranger or another version');

  host.arrive({ switchboard: 1, type: 'ready' });
  assert.deepEqual(plain(frame.contentWindow.sent), [
    [{ switchboard: 1, type: 'hello' }, SERVER],
    [{ switchboard: 1, type: 'identify', token: 'jwt-for-jane' }, SERVER],
  ]);
});

test('a status from the panel reaches the page listeners and labels the button', async () => {
  const host = page();
  const statuses = [];
  host.api('on', 'status', (status) => statuses.push(status));
  await settled();
  host.api('open');
  host.arrive({ switchboard: 1, type: 'status', state: 'waiting', position: 4 });
  host.arrive({ switchboard: 1, type: 'status', state: 'waiting', position: 9 }, 'https://evil.example');
  assert.deepEqual(plain(statuses), [{ state: 'waiting', position: 4 }]);
  const button = host.body.children[0].shadowRoot.children.find((child) => child.className === 'button');
  assert.equal(button.textContent, 'You are number 4 in line');
});
