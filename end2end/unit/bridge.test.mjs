// The panel's side of the widget's messages (app/src/widget/bridge.js),
// in a fake window: it writes only to its key's origins, listens only to
// its parent on one of them, and answers the loader as protocol.d.ts says.
import { test } from 'node:test';
import assert from 'node:assert/strict';

const SHOP = 'https://shop.example';
const OTHER = 'https://other.example';

/** @type {[unknown, string][]} */
const posted = [];
/** @type {((event: object) => void)[]} */
const handlers = [];
/** @type {((event: object) => void)[]} */
const keys = [];
const parent = { postMessage: (/** @type {unknown} */ message, /** @type {string} */ origin) => posted.push([message, origin]) };
globalThis.window = /** @type {any} */ ({ parent, addEventListener: (type, handler) => (type === 'keydown' ? keys : handlers).push(handler) });
const bridge = await import('../../app/src/widget/bridge.js');

/** @type {string[]} */
const identified = [];
bridge.listen([SHOP, OTHER], (token) => identified.push(token));

/** A message arriving at the panel. */
function arrive(data, origin = SHOP, source = parent) {
  for (const handler of handlers) handler({ data, origin, source });
}

test('the panel says it is ready to each of its key origins, and to no other', () => {
  assert.deepEqual(posted, [
    [{ switchboard: 1, type: 'ready' }, SHOP],
    [{ switchboard: 1, type: 'ready' }, OTHER],
  ]);
});

test('what the customer sees waits for the loader, then goes to its origin only', () => {
  posted.length = 0;
  bridge.tell('waiting', 3);
  assert.deepEqual(posted, [], 'nothing before hello');
  arrive({ switchboard: 1, type: 'hello' }, 'https://evil.example');
  arrive({ switchboard: 1, type: 'hello' }, SHOP, /** @type {any} */ ({ postMessage() {} }));
  assert.deepEqual(posted, [], 'a hello from elsewhere is no hello');
  arrive({ switchboard: 1, type: 'hello' });
  assert.deepEqual(posted, [[{ switchboard: 1, type: 'status', state: 'waiting', position: 3 }, SHOP]]);
  bridge.tell('talking', null);
  assert.deepEqual(posted[1], [{ switchboard: 1, type: 'status', state: 'talking', position: null }, SHOP]);
});

test('an identify token is taken from the parent on an allowed origin only, in this version', () => {
  arrive({ switchboard: 1, type: 'identify', token: 'from-another-site' }, 'https://evil.example');
  arrive({ switchboard: 1, type: 'identify', token: 'from-another-window' }, SHOP, /** @type {any} */ ({}));
  arrive({ switchboard: 2, type: 'identify', token: 'another-version' });
  arrive({ switchboard: 1, type: 'identify', token: 42 });
  arrive(null);
  arrive({ switchboard: 1, type: 'identify', token: 'jwt' });
  assert.deepEqual(identified, ['jwt']);
});

test('Escape in the panel asks the loader to close it, on its origin only', () => {
  posted.length = 0;
  for (const handler of keys) handler({ key: 'a', defaultPrevented: false });
  for (const handler of keys) handler({ key: 'Escape', defaultPrevented: true });
  assert.deepEqual(posted, [], 'other keys, and an Escape a field took, close nothing');
  for (const handler of keys) handler({ key: 'Escape', defaultPrevented: false });
  assert.deepEqual(posted, [[{ switchboard: 1, type: 'close' }, SHOP]]);
});
