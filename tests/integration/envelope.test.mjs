// The JSON envelope every API answer has: {"success": true, "data": <the
// object itself>, "meta"?} or {"success": false, "error": {...}}, also for
// the errors nginx answers itself. Pages render from the same handlers.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { Client, adminClient, assertError, dataOf, userClient } from './lib.mjs';

let admin;
let user; // { client, user, username, password }

before(async () => {
  admin = await adminClient();
  user = await userClient(admin, { display_name: 'Envelope Person' });
});

test('an object comes as data itself, not wrapped in its kind', async () => {
  const me = await user.client.api('GET', '/me');
  assert.equal(me.status, 200);
  assert.deepEqual(Object.keys(me.body).sort(), ['data', 'success']);
  const data = dataOf(me);
  assert.equal(data.id, user.user.id);
  assert.equal(data.username, user.username);
  assert.equal(data.user, undefined);

  const shown = dataOf(await admin.api('GET', `/users/${user.user.id}`));
  assert.equal(shown.display_name, 'Envelope Person');

  const patched = dataOf(await user.client.api('PATCH', '/me', { display_name: 'Renamed' }));
  assert.equal(patched.display_name, 'Renamed');

  const token = await user.client.api('POST', '/me/tokens', { name: 'envelope' });
  assert.equal(token.status, 201);
  assert.ok(dataOf(token).id > 0);
  assert.match(dataOf(token).secret, /^vmm_[0-9a-f]{64}$/);
});

test('the session object of login and /auth/me keeps its user and CSRF token', async () => {
  const c = new Client();
  const res = await c.login(user.username, user.password);
  assert.equal(dataOf(res).user.id, user.user.id);
  assert.match(dataOf(res).csrf_token, /^[0-9a-f]{32,}$/);
  assert.equal(dataOf(await c.api('GET', '/auth/me')).user.username, user.username);
});

test('a list is data: [...] with its paging in meta', async () => {
  const res = await admin.api('GET', '/users?per_page=2');
  const items = dataOf(res);
  assert.ok(Array.isArray(items));
  assert.ok(items.length <= 2);
  assert.equal(res.body.meta.per_page, 2);
  assert.ok(res.body.meta.total >= 2);
});

test('errors carry success: false, from our programs and from nginx', async () => {
  assertError(await user.client.api('GET', '/vms/999999999'), 404, 'not_found');
  assertError(await new Client().api('GET', '/me'), 401, 'unauthenticated');
  assertError(await user.client.api('PATCH', '/me', { nonsense: 1 }), 400, 'unknown_field');
  // Over nginx's body limit: nginx answers, not a program.
  const huge = await new Client().request('POST', '/api/v1/auth/login', {
    body: 'x'.repeat(3 * 1024 * 1024), type: 'application/json',
  });
  assertError(huge, 413, 'body_too_large');
});

test('the page twin renders from the same handler', async () => {
  const page = await admin.page(`/users/${user.user.id}`);
  assert.equal(page.status, 200);
  assert.ok(page.text.includes(user.username), 'the user page shows the user');
  assert.equal(page.headers.get('content-type').split(';')[0], 'text/html');
});
