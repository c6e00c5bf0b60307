// User administration: the JSON API and the forms, who may use them, and
// what disabling and password resets do to running sessions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN_USER, Client, adminClient, assertError, createUser, elementText, newPassword,
  q, sql, uniqueName, userClient,
} from './lib.mjs';

let admin;
let adminId;
before(async () => {
  admin = await adminClient();
  adminId = (await admin.api('GET', '/me')).body.data.id;
});
after(async () => {
  await admin?.logout();
});

test('create, show and list users as admin', async () => {
  const username = uniqueName('crud');
  const password = newPassword();
  const res = await admin.api('POST', '/users', {
    username, password, role: 'user', display_name: 'Crud Person', email: 'crud@example.org',
  });
  assert.equal(res.status, 201);
  const u = res.body.data;
  assert.equal(u.username, username);
  assert.equal(u.display_name, 'Crud Person');
  assert.equal(u.email, 'crud@example.org');
  assert.equal(u.role, 'user');
  assert.equal(u.enabled, true);
  assert.ok(Number.isInteger(u.id) && u.id > 0);
  assert.equal(u.password, undefined);
  assert.equal(u.password_hash, undefined);

  const show = await admin.api('GET', `/users/${u.id}`);
  assert.equal(show.status, 200);
  assert.deepEqual(show.body.data, u);

  const list = await admin.api('GET', `/users?q=${username}`);
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.data.map((x) => x.username), [username]);
  assert.deepEqual(list.body.meta, { total: 1, page: 1, per_page: 50 });

  // The new user can log in with the password given.
  const c = new Client();
  assert.equal((await c.loginOk(username, password)).id, u.id);
});

test('list filters (q, role, enabled), paging meta and sorting', async () => {
  const tag = uniqueName('pg');
  const made = [];
  for (const [suffix, role] of [['a', 'user'], ['b', 'admin'], ['c', 'user']]) {
    made.push((await createUser(admin, { username: `${tag}${suffix}`, role })).user);
  }
  assert.equal((await admin.api('PATCH', `/users/${made[2].id}`, { enabled: false })).status, 200);

  const all = await admin.api('GET', `/users?q=${tag}&sort=username`);
  assert.deepEqual(all.body.data.map((x) => x.username), [`${tag}a`, `${tag}b`, `${tag}c`]);
  assert.equal(all.body.meta.total, 3);

  const desc = await admin.api('GET', `/users?q=${tag}&sort=-username`);
  assert.deepEqual(desc.body.data.map((x) => x.username), [`${tag}c`, `${tag}b`, `${tag}a`]);

  const admins = await admin.api('GET', `/users?q=${tag}&role=admin`);
  assert.deepEqual(admins.body.data.map((x) => x.username), [`${tag}b`]);
  assert.equal(admins.body.meta.total, 1);
  const users = await admin.api('GET', `/users?q=${tag}&role=user&sort=id`);
  assert.deepEqual(users.body.data.map((x) => x.username), [`${tag}a`, `${tag}c`]);

  const disabled = await admin.api('GET', `/users?q=${tag}&enabled=false`);
  assert.deepEqual(disabled.body.data.map((x) => x.username), [`${tag}c`]);
  const enabled = await admin.api('GET', `/users?q=${tag}&enabled=true&sort=id`);
  assert.deepEqual(enabled.body.data.map((x) => x.username), [`${tag}a`, `${tag}b`]);

  const p1 = await admin.api('GET', `/users?q=${tag}&sort=id&per_page=2&page=1`);
  assert.deepEqual(p1.body.data.map((x) => x.id), [made[0].id, made[1].id]);
  assert.deepEqual(p1.body.meta, { total: 3, page: 1, per_page: 2 });
  const p2 = await admin.api('GET', `/users?q=${tag}&sort=id&per_page=2&page=2`);
  assert.deepEqual(p2.body.data.map((x) => x.id), [made[2].id]);
  assert.deepEqual(p2.body.meta, { total: 3, page: 2, per_page: 2 });
  const p3 = await admin.api('GET', `/users?q=${tag}&sort=id&per_page=2&page=3`);
  assert.deepEqual(p3.body.data, []);
  assert.equal(p3.body.meta.total, 3);

  // The search also finds display names and e-mail addresses, and a
  // '%' or '_' in the search is a literal character, not a wildcard.
  const dn = await createUser(admin, { display_name: `Findable ${tag}`, email: `${tag}@mail.example` });
  const byName = await admin.api('GET', `/users?q=${encodeURIComponent(`Findable ${tag}`)}`);
  assert.deepEqual(byName.body.data.map((x) => x.id), [dn.user.id]);
  const byMail = await admin.api('GET', `/users?q=${encodeURIComponent(`${tag}@mail`)}`);
  assert.deepEqual(byMail.body.data.map((x) => x.id), [dn.user.id]);
  const wildcard = await admin.api('GET', `/users?q=${encodeURIComponent(`${tag.slice(0, -1)}%`)}`);
  assert.equal(wildcard.body.meta.total, 0);
});

test('the users page lists the users and shows one user', async () => {
  const { user, username } = await createUser(admin, { display_name: 'Page Listed' });
  const page = await admin.get(`/users?q=${username}`);
  assert.equal(page.status, 200);
  assert.match(page.text, new RegExp(`<a href="/users/${user.id}">${username}</a>`));
  assert.match(page.text, /Page Listed/);
  const one = await admin.get(`/users/${user.id}`);
  assert.equal(one.status, 200);
  assert.match(one.text, new RegExp(`<h1>User ${username}</h1>`));
  assert.match(one.text, /id="display_name"[^>]*value="Page Listed"/);
  const missing = await admin.get('/users/999999999');
  assert.equal(missing.status, 404);
});

test('PATCH changes role, enabled, display name and email', async () => {
  const { user } = await createUser(admin);
  const res = await admin.api('PATCH', `/users/${user.id}`, {
    role: 'admin', display_name: 'Patched Name', email: 'patched@example.org',
  });
  assert.equal(res.status, 200);
  const u = res.body.data;
  assert.equal(u.role, 'admin');
  assert.equal(u.display_name, 'Patched Name');
  assert.equal(u.email, 'patched@example.org');

  const off = await admin.api('PATCH', `/users/${user.id}`, { enabled: false, role: 'user' });
  assert.equal(off.status, 200);
  assert.equal(off.body.data.enabled, false);
  assert.equal(off.body.data.role, 'user');

  const shown = (await admin.api('GET', `/users/${user.id}`)).body.data;
  assert.equal(shown.enabled, false);
  assert.equal(shown.display_name, 'Patched Name');
  assert.equal((await admin.api('PATCH', `/users/${user.id}`, { enabled: true })).body.data.enabled, true);

  assertError(await admin.api('PATCH', `/users/${user.id}`, { email: 'nope' }), 400, 'invalid_email');
  assertError(await admin.api('PATCH', `/users/${user.id}`, { role: 'root' }), 400, 'invalid_choice');
  assertError(await admin.api('PATCH', '/users/999999999', { display_name: 'x' }), 404, 'not_found');
});

test('an admin promoted by PATCH can use the admin API', async () => {
  const { client, user } = await userClient(admin);
  assertError(await client.api('GET', '/users'), 403, 'forbidden');
  assert.equal((await admin.api('PATCH', `/users/${user.id}`, { role: 'admin' })).status, 200);
  assert.equal((await client.api('GET', '/users')).status, 200);
  assert.equal((await admin.api('PATCH', `/users/${user.id}`, { role: 'user' })).status, 200);
  assertError(await client.api('GET', '/users'), 403, 'forbidden');
});

test('a password reset by PATCH ends the sessions; the new password works, the old does not', async () => {
  const { client, user, username, password } = await userClient(admin);
  const second = new Client();
  await second.loginOk(username, password);
  const fresh = newPassword();
  const res = await admin.api('PATCH', `/users/${user.id}`, { password: fresh });
  assert.equal(res.status, 200);
  assertError(await client.api('GET', '/me'), 401, 'unauthenticated');
  assertError(await second.api('GET', '/me'), 401, 'unauthenticated');
  assertError(await new Client().login(username, password), 401, 'invalid_credentials');
  await new Client().loginOk(username, fresh);
  assertError(await admin.api('PATCH', `/users/${user.id}`, { password: 'short' }), 400, 'invalid_length');
});

test('a password reset by form ends the sessions and the new password works', async () => {
  const { client, user, username, password } = await userClient(admin);
  const page = await admin.page(`/users/${user.id}`);
  assert.match(page.text, /id="reset-password"/);
  const fresh = newPassword();
  const res = await admin.postForm(`/users/${user.id}/password`, { password: fresh });
  assert.equal(res.status, 303);
  assert.equal(res.location, `/users/${user.id}`);
  assertError(await client.api('GET', '/me'), 401, 'unauthenticated');
  assertError(await new Client().login(username, password), 401, 'invalid_credentials');
  await new Client().loginOk(username, fresh);
});

test('a password reset lets a slowed-down address in with the new password at once', async () => {
  const { user, username } = await createUser(admin);
  const c = new Client();
  for (let i = 1; i <= 5; i++) await c.login(username, `wrong-password-${i}`);
  assertError(await c.login(username, 'still-wrong-pw'), 429, 'too_many_attempts');
  const fresh = newPassword();
  assert.equal((await admin.api('PATCH', `/users/${user.id}`, { password: fresh })).status, 200);
  assert.equal((await c.login(username, fresh)).status, 200);
});

test('a password reset revokes the user\'s API tokens unless revoke_tokens is false', async () => {
  const { client, user, username } = await userClient(admin);
  const token = async (c) => (await c.api('POST', '/me/tokens', { name: 'script' })).body.data.secret;
  const bearer = (secret) => new Client('bearer', { headers: { Authorization: `Bearer ${secret}` } });
  const first = await token(client);
  assert.equal((await bearer(first).api('GET', '/me')).status, 200);
  const reset = await admin.api('PATCH', `/users/${user.id}`, { password: newPassword() });
  assert.equal(reset.status, 200, reset.text);
  assertError(await bearer(first).api('GET', '/me'), 401, 'invalid_token');
  assert.equal(sql(`SELECT COUNT(*) FROM api_tokens WHERE user_id = ${user.id}`)[0][0], '0');
  const detail = JSON.parse(sql(`SELECT detail FROM audit_log WHERE request_id = ${q(reset.requestId)}`)[0][0]);
  assert.equal(detail.tokens_revoked, 1);

  // revoke_tokens: false keeps them (the sessions still end).
  const fresh = newPassword();
  assert.equal((await admin.api('PATCH', `/users/${user.id}`, { password: fresh })).status, 200);
  const again = new Client();
  await again.loginOk(username, fresh);
  const second = await token(again);
  const kept = await admin.api('PATCH', `/users/${user.id}`, { password: newPassword(), revoke_tokens: false });
  assert.equal(kept.status, 200, kept.text);
  assert.equal((await bearer(second).api('GET', '/me')).status, 200, 'the token still works');
  assertError(await again.api('GET', '/me'), 401, 'unauthenticated');

  // The reset form revokes them unless told to keep them.
  const formFresh = newPassword();
  await admin.page(`/users/${user.id}`);
  const form = await admin.postForm(`/users/${user.id}/password`, { password: formFresh });
  assert.equal(form.status, 303);
  assertError(await bearer(second).api('GET', '/me'), 401, 'invalid_token');
});

test('weak and common passwords are refused with 422 weak_password, wherever a password is set', async () => {
  const weak = ['password123', 'qwertyuiop', '12345678910', 'aaaaaaaaaaaa'];
  for (const password of weak) {
    const res = await admin.api('POST', '/users', { username: uniqueName('weak'), password });
    assertError(res, 422, 'weak_password');
    assert.equal(res.body.error.field, 'password');
  }
  const name = uniqueName('own');
  assertError(await admin.api('POST', '/users', { username: name, password: `x-${name}-1` }), 422, 'weak_password');
  assert.equal((await admin.api('GET', `/users?q=${name}`)).body.meta.total, 0, 'nothing was made');

  const { client, user, username, password } = await userClient(admin);
  // An admin's reset, by the API and by the form: nothing changes.
  const patch = await admin.api('PATCH', `/users/${user.id}`, { password: 'password123', display_name: 'Not Changed' });
  assertError(patch, 422, 'weak_password');
  assert.equal(sql(`SELECT display_name FROM users WHERE id = ${user.id}`)[0]?.[0] ?? '', '');
  await admin.page(`/users/${user.id}`);
  const form = await admin.postForm(`/users/${user.id}/password`, { password: 'qwertyuiop' });
  assert.equal(form.status, 422);
  assert.ok(elementText(form.text, 'error'), 'inline error');
  // The user's own change: also too like the current one.
  assertError(await client.api('PATCH', '/me', { password: 'password123', current_password: password }), 422, 'weak_password');
  assertError(await client.api('PATCH', '/me', { password, current_password: password }), 422, 'weak_password');
  await new Client().loginOk(username, password);
  assert.equal((await client.api('GET', '/me')).status, 200, 'still logged in');

  // The reason is translated.
  const zh = await admin.api('POST', '/users', { username: uniqueName('zh'), password: 'password123' },
    { headers: { 'Accept-Language': 'zh-CN' } });
  assertError(zh, 422, 'weak_password');
  assert.match(zh.body.error.message, /[\u4e00-\u9fff]/, zh.body.error.message);
});

test('a too short password in the reset form shows the user page with the error', async () => {
  const { user, username, password } = await createUser(admin);
  await admin.page(`/users/${user.id}`);
  const res = await admin.postForm(`/users/${user.id}/password`, { password: 'short' });
  assert.equal(res.status, 400);
  assert.ok(elementText(res.text, 'error'), 'inline error');
  assert.match(res.text, new RegExp(`<h1>User ${username}</h1>`));
  assert.ok(!res.text.includes('value="short"'));
  await new Client().loginOk(username, password);
});

test('disabling a user ends their sessions at once', async () => {
  const { client, user } = await userClient(admin);
  assert.equal((await client.get('/')).status, 200);
  assert.equal((await admin.api('PATCH', `/users/${user.id}`, { enabled: false })).status, 200);
  assertError(await client.api('GET', '/me'), 401, 'unauthenticated');
  assertError(await client.api('PATCH', '/me', { display_name: 'still here?' }), 401, 'unauthenticated');
  assert.equal((await client.get('/')).status, 303);
  // Re-enabling does not bring the old session back.
  assert.equal((await admin.api('PATCH', `/users/${user.id}`, { enabled: true })).status, 200);
  assertError(await client.api('GET', '/me'), 401, 'unauthenticated');
});

test('a normal user gets 403 on every user route', async () => {
  const { client } = await userClient(admin);
  const target = (await createUser(admin)).user;
  assertError(await client.api('GET', '/users'), 403, 'forbidden');
  assertError(await client.api('GET', `/users/${target.id}`), 403, 'forbidden');
  assertError(await client.api('POST', '/users', { username: uniqueName('x'), password: newPassword() }), 403, 'forbidden');
  assertError(await client.api('PATCH', `/users/${target.id}`, { role: 'admin' }), 403, 'forbidden');
  const me = (await client.api('GET', '/me')).body.data;
  assertError(await client.api('PATCH', `/users/${me.id}`, { role: 'admin' }), 403, 'forbidden');
  assert.equal((await client.api('GET', '/me')).body.data.role, 'user');
  assert.equal((await admin.api('GET', `/users/${target.id}`)).body.data.role, 'user');

  assert.equal((await client.get('/users')).status, 403);
  assert.equal((await client.get(`/users/${target.id}`)).status, 403);
  await client.page('/');
  assert.equal((await client.postForm('/users', { username: uniqueName('x'), password: newPassword() })).status, 403);
  assert.equal((await client.postForm(`/users/${target.id}/password`, { password: newPassword() })).status, 403);
  // The dashboard has no link to the users page for them.
  assert.doesNotMatch((await client.get('/')).text, /href="\/users"/);
});

test('anonymous callers get 401 on the API and the login page for the pages', async () => {
  const target = (await createUser(admin)).user;
  const anon = new Client();
  assertError(await anon.api('GET', '/users'), 401, 'unauthenticated');
  assertError(await anon.api('GET', `/users/${target.id}`), 401, 'unauthenticated');
  assertError(await anon.api('POST', '/users', { username: uniqueName('x'), password: newPassword() }), 401, 'unauthenticated');
  assertError(await anon.api('PATCH', `/users/${target.id}`, { role: 'admin' }), 401, 'unauthenticated');
  const page = await anon.get('/users');
  assert.equal(page.status, 303);
  assert.equal(page.location, '/login?next=/users');
  assert.equal((await anon.get(`/users/${target.id}`)).location, `/login?next=/users/${target.id}`);
  assert.equal((await admin.api('GET', `/users/${target.id}`)).body.data.role, 'user');
});

test('an admin cannot demote or disable themselves', async () => {
  assertError(await admin.api('PATCH', `/users/${adminId}`, { role: 'user' }), 409, 'cannot_change_self');
  assertError(await admin.api('PATCH', `/users/${adminId}`, { enabled: false }), 409, 'cannot_change_self');
  const me = (await admin.api('GET', '/me')).body.data;
  assert.equal(me.username, ADMIN_USER);
  assert.equal(me.role, 'admin');
  assert.equal(me.enabled, true);
  assert.equal((await admin.api('GET', '/users')).status, 200);
});

test('an admin can demote another admin', async () => {
  const { user } = await createUser(admin, { role: 'admin' });
  const res = await admin.api('PATCH', `/users/${user.id}`, { role: 'user' });
  assert.equal(res.status, 200);
  assert.equal(res.body.data.role, 'user');
});

test('duplicate and invalid user names are refused', async () => {
  const { username } = await createUser(admin);
  assertError(await admin.api('POST', '/users', { username, password: newPassword() }), 409, 'username_taken');
  for (const bad of ['a b c', '_lead', 'semi;colon', 'ünïcode', '../etc']) {
    assertError(await admin.api('POST', '/users', { username: bad, password: newPassword() }), 400, 'invalid_username');
  }
  assertError(await admin.api('POST', '/users', { username: 'ab', password: newPassword() }), 400, 'invalid_length');
  assertError(await admin.api('POST', '/users', { username: uniqueName('p'), password: 'short' }), 400, 'invalid_length');
  assertError(await admin.api('POST', '/users', { password: newPassword() }), 400, 'missing_field');
  assertError(await admin.api('POST', '/users', { username: uniqueName('r'), password: newPassword(), role: 'god' }), 400, 'invalid_choice');
  assertError(await admin.api('POST', '/users', { username: uniqueName('e'), password: newPassword(), email: 'x' }), 400, 'invalid_email');
  const list = await admin.api('GET', `/users?q=${username}`);
  assert.equal(list.body.meta.total, 1);
});

test('create a user by form: 303 to the new user page', async () => {
  const username = uniqueName('form');
  const password = newPassword();
  await admin.page('/users');
  const res = await admin.postForm('/users', {
    username, password, role: 'user', display_name: 'Form Made', email: 'form@example.org',
  });
  assert.equal(res.status, 303);
  const m = /^\/users\/(\d+)$/.exec(res.location);
  assert.ok(m, `Location ${res.location}`);
  const page = await admin.get(res.location);
  assert.equal(page.status, 200);
  assert.match(page.text, new RegExp(`<h1>User ${username}</h1>`));
  const u = (await admin.api('GET', `/users/${m[1]}`)).body.data;
  assert.equal(u.username, username);
  assert.equal(u.display_name, 'Form Made');
  await new Client().loginOk(username, password);
});

test('a failed create form shows /users again with 400, the typed name kept, not the password', async () => {
  const typed = 'bad name!';
  const password = 'Typed-Secret-99';
  await admin.page('/users');
  const res = await admin.postForm('/users', { username: typed, password, display_name: 'Kept Display', role: 'user' });
  assert.equal(res.status, 400);
  assert.match(res.headers.get('content-type'), /text\/html/);
  assert.ok(elementText(res.text, 'error'), 'inline error');
  assert.match(res.text, /id="new-user"/);
  assert.match(res.text, /id="username"[^>]*value="bad name!"/);
  assert.match(res.text, /id="display_name"[^>]*value="Kept Display"/);
  assert.ok(!res.text.includes(password), 'the password is not echoed');

  const { username } = await createUser(admin);
  await admin.page('/users');
  const dup = await admin.postForm('/users', { username, password, role: 'user' });
  assert.equal(dup.status, 409);
  assert.ok(elementText(dup.text, 'error'));
  assert.ok(!dup.text.includes(password));
});

test('edit a user by form: role, state, display name, email', async () => {
  const { user, client } = await userClient(admin);
  await admin.page(`/users/${user.id}`);
  const res = await admin.postForm(`/users/${user.id}`, {
    display_name: 'Edited By Form', email: 'edited@example.org', role: 'admin', enabled: 'false',
  });
  assert.equal(res.status, 303);
  assert.equal(res.location, `/users/${user.id}`);
  const u = (await admin.api('GET', `/users/${user.id}`)).body.data;
  assert.equal(u.display_name, 'Edited By Form');
  assert.equal(u.email, 'edited@example.org');
  assert.equal(u.role, 'admin');
  assert.equal(u.enabled, false);
  assertError(await client.api('GET', '/me'), 401, 'unauthenticated');

  const page = await admin.page(`/users/${user.id}`);
  assert.match(page.text, /<option value="admin" selected>/);
  assert.match(page.text, /<option value="false" selected>/);

  // The admin's own form refuses self-demotion with 409 and a message.
  await admin.page(`/users/${adminId}`);
  const self = await admin.postForm(`/users/${adminId}`, { role: 'user', enabled: 'true' });
  assert.equal(self.status, 409);
  assert.ok(elementText(self.text, 'error'));
  assert.equal((await admin.api('GET', '/me')).body.data.role, 'admin');
});
