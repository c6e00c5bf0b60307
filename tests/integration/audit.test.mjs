// Each mutating request that reaches a route leaves exactly one audit_log
// row, found by the X-Request-Id of its answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN_USER, Client, adminClient, createUser, newPassword, q, sql, uniqueName,
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

/** The audit rows of one answer, as objects. */
function auditRows(res) {
  assert.match(res.requestId || '', /^[0-9a-f-]{8,40}$/, 'X-Request-Id header');
  return sql(
    'SELECT action, result, status, IFNULL(actor_id, \'\'), actor_name, IFNULL(target_id, \'\'), ' +
      `target_type, detail FROM audit_log WHERE request_id = ${q(res.requestId)}`,
  ).map(([action, result, status, actorId, actorName, targetId, targetType, detail]) => ({
    action, result, status: Number(status), actorId, actorName, targetId, targetType, detail: JSON.parse(detail),
  }));
}

/** Exactly one row, with these fields. */
function assertAudit(res, want) {
  const rows = auditRows(res);
  assert.equal(rows.length, 1, `one audit row for ${want.action} (request ${res.requestId}), got ${rows.length}`);
  const row = rows[0];
  for (const [k, v] of Object.entries(want)) assert.deepEqual(row[k], v, `audit ${want.action}: ${k}`);
  assert.equal(row.status, res.status === 303 ? row.status : res.status, 'audit status is the answer status');
  return row;
}

test('JSON login and logout: one row each', async () => {
  const { username, password, user } = await createUser(admin);
  const c = new Client();
  const login = await c.login(username, password);
  assert.equal(login.status, 200);
  assertAudit(login, {
    action: 'auth.login', result: 'success', actorName: username, actorId: String(user.id), targetId: String(user.id),
  });
  const logout = await c.logout();
  assert.equal(logout.status, 200);
  assertAudit(logout, { action: 'auth.logout', result: 'success' });
});

test('the logout row names who logged out (JSON and form)', async () => {
  const { username, password, user } = await createUser(admin);
  const c = new Client();
  await c.loginOk(username, password);
  const json = await c.logout();
  assert.equal(json.status, 200);
  assertAudit(json, { action: 'auth.logout', actorName: username, actorId: String(user.id) });
  await c.loginForm(username, password);
  await c.page('/');
  const form = await c.postForm('/logout', {});
  assert.equal(form.status, 303);
  assertAudit(form, { action: 'auth.logout', actorName: username, actorId: String(user.id) });
});

test('failed logins: one failure row each, no password in it', async () => {
  const { username, user } = await createUser(admin);
  const c = new Client();
  const wrong = await c.login(username, 'Wrong-Password-1');
  assert.equal(wrong.status, 401);
  const row = assertAudit(wrong, {
    action: 'auth.login', result: 'failure', status: 401, actorName: '', targetId: String(user.id),
  });
  assert.equal(row.detail.username, username);
  assert.equal(row.detail.error, 'invalid_credentials');
  assert.ok(!JSON.stringify(row.detail).includes('Wrong-Password-1'));

  const unknown = await c.login(`${username}zz`, 'whatever-pw');
  assert.equal(unknown.status, 401);
  assertAudit(unknown, { action: 'auth.login', result: 'failure', status: 401, targetId: '' });

  const badJson = await c.request('POST', '/api/v1/auth/login', { body: '{"username":', type: 'application/json' });
  assert.equal(badJson.status, 400);
  assertAudit(badJson, { action: 'auth.login', result: 'failure', status: 400 });
});

test('form login and form logout: one row each', async () => {
  const { username, password } = await createUser(admin);
  const c = new Client();
  const login = await c.loginForm(username, password);
  assert.equal(login.status, 303);
  assertAudit(login, { action: 'auth.login', result: 'success', actorName: username });
  await c.page('/');
  const logout = await c.postForm('/logout', {});
  assert.equal(logout.status, 303);
  assertAudit(logout, { action: 'auth.logout', result: 'success' });

  const noToken = await new Client().request('POST', '/login', { form: { username, password } });
  assert.equal(noToken.status, 403);
  assertAudit(noToken, { action: 'auth.login', result: 'failure', status: 403 });
});

test('create user: one success row; failed creates one failure row each', async () => {
  const username = uniqueName('aud');
  const password = newPassword();
  const res = await admin.api('POST', '/users', { username, password, role: 'user' });
  assert.equal(res.status, 201);
  const id = String(res.body.data.id);
  const row = assertAudit(res, {
    action: 'user.create', result: 'success', status: 201, actorName: ADMIN_USER, actorId: String(adminId),
    targetType: 'user', targetId: id,
  });
  assert.equal(row.detail.username, username);
  assert.ok(!JSON.stringify(row.detail).includes(password), 'no password in the audit detail');

  const dup = await admin.api('POST', '/users', { username, password: newPassword() });
  assert.equal(dup.status, 409);
  assert.equal(assertAudit(dup, { action: 'user.create', result: 'failure', status: 409, actorName: ADMIN_USER }).detail.error, 'username_taken');

  const bad = await admin.api('POST', '/users', { username: 'no good', password: newPassword() });
  assert.equal(bad.status, 400);
  assertAudit(bad, { action: 'user.create', result: 'failure', status: 400, actorName: ADMIN_USER });

  const unknown = await admin.api('POST', '/users', { username: uniqueName('x'), password: newPassword(), boss: 1 });
  assert.equal(unknown.status, 400);
  assertAudit(unknown, { action: 'user.create', result: 'failure', status: 400 });

  const noCsrf = await admin.api('POST', '/users', { username: uniqueName('x'), password: newPassword() }, { csrf: false });
  assert.equal(noCsrf.status, 403);
  assertAudit(noCsrf, { action: 'user.create', result: 'failure', status: 403, actorName: ADMIN_USER });

  await admin.page('/users');
  const formRes = await admin.postForm('/users', { username: uniqueName('fa'), password: newPassword(), role: 'user' });
  assert.equal(formRes.status, 303);
  assertAudit(formRes, { action: 'user.create', result: 'success', status: 201, actorName: ADMIN_USER });
});

test('a normal user trying to create a user leaves a failure row', async () => {
  const { username, password } = await createUser(admin);
  const c = new Client();
  await c.loginOk(username, password);
  const res = await c.api('POST', '/users', { username: uniqueName('no'), password: newPassword() });
  assert.equal(res.status, 403);
  assertAudit(res, { action: 'user.create', result: 'failure', status: 403, actorName: username });
});

test('patch user: one row with the change, never the password', async () => {
  const { user } = await createUser(admin);
  const res = await admin.api('PATCH', `/users/${user.id}`, { display_name: 'Audited', role: 'admin' });
  assert.equal(res.status, 200);
  const row = assertAudit(res, {
    action: 'user.update', result: 'success', status: 200, actorName: ADMIN_USER, targetId: String(user.id),
  });
  assert.deepEqual(row.detail.changes, { display_name: 'Audited', role: 'admin' });

  const secret = newPassword();
  const pw = await admin.api('PATCH', `/users/${user.id}`, { password: secret });
  assert.equal(pw.status, 200);
  const pwRow = assertAudit(pw, { action: 'user.update', result: 'success', targetId: String(user.id) });
  assert.ok(!JSON.stringify(pwRow.detail).includes(secret), 'no password in the audit detail');

  const self = await admin.api('PATCH', `/users/${adminId}`, { role: 'user' });
  assert.equal(self.status, 409);
  assertAudit(self, { action: 'user.update', result: 'failure', status: 409, targetId: String(adminId) });

  const missing = await admin.api('PATCH', '/users/999999999', { display_name: 'x' });
  assert.equal(missing.status, 404);
  assertAudit(missing, { action: 'user.update', result: 'failure', status: 404 });

  await admin.page(`/users/${user.id}`);
  const reset = await admin.postForm(`/users/${user.id}/password`, { password: secret });
  assert.equal(reset.status, 303);
  const resetRow = assertAudit(reset, { action: 'user.reset_password', result: 'success', targetId: String(user.id) });
  assert.ok(!JSON.stringify(resetRow.detail).includes(secret));
});

test('own settings and the language switch: one row each', async () => {
  const { username, password, user } = await createUser(admin);
  const c = new Client();
  await c.loginOk(username, password);
  const me = await c.api('PATCH', '/me', { display_name: 'Self Edit' });
  assert.equal(me.status, 200);
  assertAudit(me, { action: 'user.update_self', result: 'success', actorName: username, targetId: String(user.id) });
  await c.page('/');
  const lang = await c.postForm('/language', { language: 'en', next: '/' });
  assert.equal(lang.status, 303);
  assertAudit(lang, { action: 'user.language', result: 'success', actorName: username });
});

test('reads and unknown routes write no audit row', async () => {
  const list = await admin.api('GET', '/users');
  assert.equal(list.status, 200);
  assert.equal(auditRows(list).length, 0);
  const page = await admin.get('/');
  assert.equal(auditRows(page).length, 0);
  const nowhere = await admin.api('POST', '/nowhere', {});
  assert.equal(nowhere.status, 404);
  assert.equal(auditRows(nowhere).length, 0);
});
