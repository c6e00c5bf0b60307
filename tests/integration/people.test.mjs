// People and oversight: personal API tokens, the profile (password,
// sessions, avatar), quotas, deleting users, and the audit and history
// lists with their filters and CSV export. Each attack of the issue has a
// test: role escalation through a field, a disabled user's token, a
// revoked token, an avatar that is really HTML or SVG, oversized images,
// negative or absurd quotas.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, deflateSync } from 'node:zlib';
import {
  Client, adminClient, assertError, createUser, newPassword, q, sql, uniqueName, userClient,
} from './lib.mjs';

let admin;
before(async () => {
  admin = await adminClient();
});
after(async () => {
  await admin?.logout();
});

/** A real PNG of w x h pixels (RGB, one colour). */
function png(w, h, { junkAfterHeader = false } = {}) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(w * 3, 0x7f)]);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (junkAfterHeader)
    return Buffer.concat([sig, chunk('IHDR', ihdr), Buffer.from('<html><script>alert(1)</script></html>')]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// An 8x8 JPEG made with libjpeg-turbo.
const JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAIAAgDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDnaKKK88+vP//Z',
  'base64',
);

/** A request with a bearer token and no cookie, no CSRF token. */
function bearer(token, method, path, json) {
  const c = new Client('bearer', { headers: { Authorization: `Bearer ${token}` } });
  return c.api(method, path, json);
}

/** A stopped VM row owned by userId (no libvirt domain behind it). */
function insertVm(userId, name = uniqueName('vm')) {
  const uuid = crypto.randomUUID();
  sql(
    'INSERT INTO vms (uuid, domain_name, name, description, owner_id, state, vcpus, memory_mb, disk_gb) ' +
      `VALUES (${q(uuid)}, ${q(`vmm-t-${uuid.slice(0, 18)}`)}, ${q(name)}, '', ${userId}, 'stopped', 1, 128, 1)`,
  );
  return Number(sql(`SELECT id FROM vms WHERE uuid = ${q(uuid)}`)[0][0]);
}

describe('API tokens', () => {
  test('created once, stored hashed, used as Bearer without CSRF, last use recorded', async () => {
    const { client, user } = await userClient(admin);
    const made = await client.api('POST', '/me/tokens', { name: 'ci script' });
    assert.equal(made.status, 201, made.text);
    const token = made.body.data;
    const { secret } = token;
    assert.match(secret, /^vmm_[0-9a-f]{64}$/);
    assert.equal(token.prefix, secret.slice(0, 12));
    // Only the digest is in the database.
    const stored = sql(`SELECT token_hash FROM api_tokens WHERE id = ${token.id}`)[0][0];
    assert.notEqual(stored, secret);
    assert.equal(sql(`SELECT COUNT(*) FROM api_tokens WHERE token_hash LIKE ${q(`%${secret.slice(4, 40)}%`)}`)[0][0], '0');
    // Listed without the secret.
    const list = await client.api('GET', '/me/tokens');
    assert.equal(list.status, 200);
    assert.equal(list.body.data.length, 1);
    assert.equal(list.body.data[0].name, 'ci script');
    assert.equal(list.body.data[0].last_used_at, null);
    assert.ok(!list.text.includes(secret));

    // The token works for reads and, without any CSRF token, for writes.
    const me = await bearer(secret, 'GET', '/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.data.id, user.id);
    const patched = await bearer(secret, 'PATCH', '/me', { display_name: 'Robot 机器人' });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.data.display_name, 'Robot 机器人');
    const audit = sql(`SELECT detail FROM audit_log WHERE request_id = ${q(patched.requestId)}`);
    assert.equal(audit.length, 1);
    assert.equal(JSON.parse(audit[0][0]).api_token_id, token.id);
    const used = await client.api('GET', '/me/tokens');
    assert.match(used.body.data[0].last_used_at, /^\d{4}-\d\d-\d\dT/);
  });

  test('a revoked token, a made-up token and a malformed header are 401', async () => {
    const { client } = await userClient(admin);
    const token = (await client.api('POST', '/me/tokens', { name: 'old' })).body.data;
    const { secret } = token;
    assert.equal((await bearer(secret, 'GET', '/me')).status, 200);
    const revoked = await client.api('DELETE', `/me/tokens/${token.id}`);
    assert.equal(revoked.status, 200);
    assertError(await bearer(secret, 'GET', '/me'), 401, 'invalid_token');
    // Reusing it for a write is refused too, and audited as such.
    const write = await bearer(secret, 'PATCH', '/me', { display_name: 'x' });
    assertError(write, 401, 'invalid_token');
    const row = sql(`SELECT action, result, status, detail FROM audit_log WHERE request_id = ${q(write.requestId)}`);
    assert.deepEqual(row.map((r) => r.slice(0, 3)), [['user.update_self', 'failure', '401']]);
    assert.equal(JSON.parse(row[0][3]).error, 'invalid_token');
    assertError(await bearer(`vmm_${'0'.repeat(64)}`, 'GET', '/me'), 401, 'invalid_token');
    assertError(await bearer('not-a-token', 'GET', '/me'), 401, 'invalid_token');
    const basic = new Client('basic', { headers: { Authorization: 'Basic YWRtaW46YWRtaW4=' } });
    assertError(await basic.api('GET', '/me'), 401, 'invalid_token');
    // Revoking twice: gone.
    assertError(await client.api('DELETE', `/me/tokens/${token.id}`), 404, 'not_found');
  });

  test("a disabled user's token stops at once; another user cannot revoke it", async () => {
    const { client, user } = await userClient(admin);
    const token = (await client.api('POST', '/me/tokens', { name: 'x' })).body.data;
    const { secret } = token;
    const { client: other } = await userClient(admin);
    assertError(await other.api('DELETE', `/me/tokens/${token.id}`), 404, 'not_found');
    assert.equal((await bearer(secret, 'GET', '/me')).status, 200);
    assert.equal((await admin.api('PATCH', `/users/${user.id}`, { enabled: false })).status, 200);
    assertError(await bearer(secret, 'GET', '/me'), 401, 'invalid_token');
    assertError(await bearer(secret, 'GET', '/vms'), 401, 'invalid_token');
    assertError(await client.api('GET', '/me'), 401, 'unauthenticated');
  });

  test("a user's token cannot reach admin routes", async () => {
    const { client } = await userClient(admin);
    const { secret } = (await client.api('POST', '/me/tokens', { name: 'x' })).body.data;
    assertError(await bearer(secret, 'GET', '/users'), 403, 'forbidden');
    assertError(await bearer(secret, 'POST', '/users', { username: uniqueName('x'), password: newPassword() }), 403, 'forbidden');
  });
});

describe('profile', () => {
  test('no field of PATCH /me changes the role or the state', async () => {
    const { client, user } = await userClient(admin);
    for (const body of [{ role: 'admin' }, { enabled: true }, { id: 1 }, { username: 'admin' },
      { display_name: 'x', role: 'admin' }]) {
      const res = await client.api('PATCH', '/me', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
    }
    assert.equal(sql(`SELECT role, display_name FROM users WHERE id = ${user.id}`)[0].join(' '), 'user ');
    // Nor the users API, nor the quota API.
    assertError(await client.api('PATCH', `/users/${user.id}`, { role: 'admin' }), 403, 'forbidden');
    assertError(await client.api('PUT', `/users/${user.id}/quota`, { max_vms: 999, max_vcpus: 999, max_memory_mb: 1, max_disk_gb: 1 }), 403, 'forbidden');
  });

  test('password change needs the current password and ends the other sessions', async () => {
    const { client, username, password } = await userClient(admin);
    const second = new Client('second');
    await second.loginOk(username, password);
    const fresh = newPassword();
    assertError(await client.api('PATCH', '/me', { password: fresh }), 400, 'missing_field');
    assertError(await client.api('PATCH', '/me', { password: fresh, current_password: 'wrong-one-1' }), 403, 'wrong_password');
    assert.equal((await second.api('GET', '/me')).status, 200, 'a refused change ends nothing');
    const ok = await client.api('PATCH', '/me', { password: fresh, current_password: password });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await client.api('GET', '/me')).status, 200, 'this session stays');
    assertError(await second.api('GET', '/me'), 401, 'unauthenticated');
    assertError(await new Client().login(username, password), 401, 'invalid_credentials');
    await new Client().loginOk(username, fresh);
    // The change history says the password changed, never what to.
    const row = sql(`SELECT changes FROM audit_log WHERE request_id = ${q(ok.requestId)}`)[0][0];
    assert.ok(JSON.parse(row).password);
    assert.ok(!row.includes(fresh) && !row.includes(password));
  });

  test('sessions: listed, the current one marked, another one ended', async () => {
    const { client, username, password } = await userClient(admin);
    const other = new Client('other');
    await other.loginOk(username, password);
    const list = await client.api('GET', '/me/sessions');
    assert.equal(list.status, 200);
    assert.equal(list.body.data.length, 2);
    const mine = list.body.data.find((s) => s.current);
    const theirs = list.body.data.find((s) => !s.current);
    assert.ok(mine && theirs);
    assert.equal(typeof theirs.ip, 'string');
    assert.equal((await client.api('DELETE', `/me/sessions/${theirs.id}`)).status, 200);
    assertError(await other.api('GET', '/me'), 401, 'unauthenticated');
    assert.equal((await client.api('GET', '/me')).status, 200);
    // Someone else's session is not yours to end.
    const { client: stranger } = await userClient(admin);
    assertError(await stranger.api('DELETE', `/me/sessions/${mine.id}`), 404, 'not_found');
    assert.equal((await client.api('GET', '/me')).status, 200);
  });

  test('the profile page shows account, quota, tokens and sessions; a token is shown once', async () => {
    const { client, username, password } = await userClient(admin, { display_name: '测试用户' });
    await client.loginForm(username, password);
    const page = await client.page('/profile');
    assert.equal(page.status, 200);
    assert.match(page.text, /测试用户/);
    assert.match(page.text, /id="quota"/);
    assert.match(page.text, /id="sessions"/);
    const made = await client.postForm('/profile/tokens', { name: 'from the page' });
    assert.equal(made.status, 200, made.text.slice(0, 300));
    const secret = /id="token-secret">(vmm_[0-9a-f]{64})</.exec(made.text)?.[1];
    assert.ok(secret, 'the page shows the new token');
    assert.equal((await bearer(secret, 'GET', '/me')).status, 200);
    const again = await client.page('/profile');
    assert.ok(!again.text.includes(secret), 'never shown again');
    assert.match(again.text, /from the page/);
    const zh = await client.page('/profile', { headers: { 'Accept-Language': 'zh-CN' } });
    assert.equal(zh.status, 200);
  });
});

describe('avatar', () => {
  test('a PNG and a JPEG are kept and served with their type and nosniff', async () => {
    const { client } = await userClient(admin);
    assertError(await client.api('GET', '/me/avatar'), 404, 'not_found');
    const image = png(64, 48);
    const put = await client.request('PUT', '/api/v1/me/avatar', { body: image, type: 'image/png' });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.body.data, { content_type: 'image/png', width: 64, height: 48 });
    const got = await fetch(`${process.env.VMM_URL}/api/v1/me/avatar`, { headers: { Cookie: client.cookieHeader() } });
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'image/png');
    assert.equal(got.headers.get('x-content-type-options'), 'nosniff');
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), image);

    // The declared type does not matter: the bytes do.
    const jpeg = await client.request('PUT', '/api/v1/me/avatar', { body: JPEG, type: 'image/png' });
    assert.equal(jpeg.status, 200, jpeg.text);
    assert.equal(jpeg.body.data.content_type, 'image/jpeg');
    const got2 = await fetch(`${process.env.VMM_URL}/api/v1/me/avatar`, { headers: { Cookie: client.cookieHeader() } });
    assert.equal(got2.headers.get('content-type'), 'image/jpeg');
    assert.equal((await client.api('DELETE', '/me/avatar')).status, 200);
    assertError(await client.api('GET', '/me/avatar'), 404, 'not_found');
  });

  test('HTML, SVG, broken and oversized pictures are refused', async () => {
    const { client } = await userClient(admin);
    const put = (body, type) => client.request('PUT', '/api/v1/me/avatar', { body, type });
    assertError(await put('<html><script>alert(1)</script></html>', 'image/png'), 415, 'unsupported_image');
    assertError(await put('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 'image/svg+xml'), 415, 'unsupported_image');
    assertError(await put(Buffer.from('GIF89a\x01\x00\x01\x00'), 'image/gif'), 415, 'unsupported_image');
    assertError(await put(png(4, 4, { junkAfterHeader: true }), 'image/png'), 422, 'invalid_image');
    assertError(await put(JPEG.subarray(0, 200), 'image/jpeg'), 422, 'invalid_image');
    assertError(await put(png(2000, 1), 'image/png'), 422, 'image_too_large');
    assertError(await put(Buffer.alloc(0), 'image/png'), 415, 'unsupported_image');
    const big = Buffer.concat([png(8, 8), Buffer.alloc((1 << 20) + 1)]);
    const tooBig = await put(big, 'image/png');
    assert.equal(tooBig.status, 413);
    assertError(await client.api('GET', '/me/avatar'), 404, 'not_found');
    assertError(await new Client().request('PUT', '/api/v1/me/avatar', { body: png(8, 8), type: 'image/png' }), 401, 'unauthenticated');
  });
});

describe('quotas', () => {
  test('defaults from the config with usage; admin sets them; users see their own', async () => {
    const { client, user } = await userClient(admin);
    insertVm(user.id);
    const got = await admin.api('GET', `/users/${user.id}/quota`);
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body.data.quota.custom, false);
    assert.equal(got.body.data.quota.max_vms, 10);
    assert.equal(got.body.data.quota.max_image_gb, 100);
    assert.deepEqual({ ...got.body.data.usage }, { vms: 1, vcpus: 1, memory_mb: 128, disk_gb: 1, image_bytes: 0, image_gb: 0, backup_gb: 0 });
    const limits = { max_vms: 3, max_vcpus: 4, max_memory_mb: 4096, max_disk_gb: 20, max_image_gb: 5 };
    const put = await admin.api('PUT', `/users/${user.id}/quota`, limits);
    assert.equal(put.status, 200, put.text);
    assert.deepEqual({ ...put.body.data.quota, custom: undefined }, { ...limits, custom: undefined });
    const mine = await client.api('GET', '/me/quota');
    assert.equal(mine.body.data.quota.max_vms, 3);
    assert.equal(mine.body.data.usage.vms, 1);
    // The change history has before and after.
    const changes = JSON.parse(sql(`SELECT changes FROM audit_log WHERE request_id = ${q(put.requestId)}`)[0][0]);
    assert.deepEqual(changes.max_vms, { before: 10, after: 3 });
    assertError(await client.api('GET', `/users/${user.id}/quota`), 403, 'forbidden');
    assertError(await admin.api('GET', '/users/99999999/quota'), 404, 'not_found');
  });

  test('negative, absurd, missing and mistyped limits are refused naming the field', async () => {
    const { user } = await createUser(admin);
    const good = { max_vms: 1, max_vcpus: 1, max_memory_mb: 512, max_disk_gb: 1 };
    const cases = [
      [{ ...good, max_vms: -1 }, 'max_vms'],
      [{ ...good, max_vcpus: 1e12 }, 'max_vcpus'],
      [{ ...good, max_memory_mb: -5 }, 'max_memory_mb'],
      [{ ...good, max_disk_gb: 2 ** 53 }, 'max_disk_gb'],
      [{ ...good, max_image_gb: -1 }, 'max_image_gb'],
      [{ ...good, max_vms: '5' }, 'max_vms'],
      [{ ...good, max_vms: 1.5 }, 'max_vms'],
      [{ max_vms: 1 }, 'max_vcpus'],
    ];
    for (const [body, field] of cases) {
      const res = await admin.api('PUT', `/users/${user.id}/quota`, body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.body.error.field, field, JSON.stringify(body));
    }
    assert.equal(sql(`SELECT COUNT(*) FROM quotas WHERE user_id = ${user.id}`)[0][0], '0');
  });
});

describe('self-registration toggle', () => {
  test('an admin opens and closes registration; a registrant is a plain user whatever they send', async () => {
    try {
      const open = await admin.api('PATCH', '/settings', { registration: true });
      assert.equal(open.status, 200, open.text);
      assert.equal(open.body.data.registration, true);
      assert.equal((await new Client().get('/register')).status, 200);
      const visitor = new Client('visitor');
      const username = uniqueName('reg');
      const escalate = await visitor.api('POST', '/auth/register', { username, password: newPassword(), role: 'admin' });
      assertError(escalate, 400, 'unknown_field');
      const made = await visitor.api('POST', '/auth/register', { username, password: newPassword() });
      assert.equal(made.status, 201, made.text);
      assert.equal(made.body.data.user.role, 'user');
      const changes = JSON.parse(sql(`SELECT changes FROM audit_log WHERE request_id = ${q(open.requestId)}`)[0][0]);
      assert.deepEqual(changes.registration.after, true);
      const page = await admin.page('/settings');
      assert.equal(page.status, 200);
      assert.match(page.text, /id="settings-form"/);
    } finally {
      assert.equal((await admin.api('PATCH', '/settings', { registration: false })).status, 200);
    }
    assertError(await new Client().api('POST', '/auth/register', { username: uniqueName('reg'), password: newPassword() }), 403, 'registration_disabled');
    const { client } = await userClient(admin);
    assertError(await client.api('PATCH', '/settings', { registration: true }), 403, 'forbidden');
  });
});

describe('deleting users', () => {
  test('refused while the user owns VMs, done when they are handed over', async () => {
    const { user } = await createUser(admin);
    const { user: heir } = await createUser(admin);
    const vm = insertVm(user.id);
    assertError(await admin.api('DELETE', `/users/${user.id}`), 409, 'user_owns_vms');
    assertError(await admin.api('DELETE', `/users/${user.id}?reassign_to=${user.id}`), 422, 'invalid_reassign');
    assertError(await admin.api('DELETE', `/users/${user.id}?reassign_to=99999999`), 422, 'invalid_reassign');
    assert.equal(sql(`SELECT owner_id FROM vms WHERE id = ${vm}`)[0][0], String(user.id));
    const res = await admin.api('DELETE', `/users/${user.id}?reassign_to=${heir.id}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(sql(`SELECT owner_id FROM vms WHERE id = ${vm}`)[0][0], String(heir.id));
    assert.equal(sql(`SELECT COUNT(*) FROM users WHERE id = ${user.id}`)[0][0], '0');
    assertError(await admin.api('GET', `/users/${user.id}`), 404, 'not_found');
  });

  test("a deleted user's sessions and tokens end; admins cannot delete themselves", async () => {
    const { client, user } = await userClient(admin);
    const { secret } = (await client.api('POST', '/me/tokens', { name: 'x' })).body.data;
    assert.equal((await admin.api('DELETE', `/users/${user.id}`)).status, 200);
    assertError(await client.api('GET', '/me'), 401, 'unauthenticated');
    assertError(await bearer(secret, 'GET', '/me'), 401, 'invalid_token');
    const me = (await admin.api('GET', '/me')).body.data;
    assertError(await admin.api('DELETE', `/users/${me.id}`), 409, 'cannot_change_self');
    const { client: plain, user: victim } = await userClient(admin);
    assertError(await plain.api('DELETE', `/users/${victim.id}`), 403, 'forbidden');
  });
});

describe('audit and history', () => {
  test('user changes keep before and after, shown in the change history', async () => {
    const { user } = await createUser(admin, { display_name: 'Before' });
    const res = await admin.api('PATCH', `/users/${user.id}`, { display_name: 'After 之后', role: 'admin' });
    assert.equal(res.status, 200);
    await admin.api('PATCH', `/users/${user.id}`, { role: 'user' });
    const list = await admin.api('GET', `/history/changes?target_type=user&target_id=${user.id}&sort=id`);
    assert.equal(list.status, 200, list.text);
    const [first, second] = list.body.data;
    assert.deepEqual(first.changes.display_name, { before: 'Before', after: 'After 之后' });
    assert.deepEqual(first.changes.role, { before: 'user', after: 'admin' });
    assert.deepEqual(second.changes.role, { before: 'admin', after: 'user' });
    assert.equal(second.changes.display_name, undefined, 'unchanged fields are not listed');
    const page = await admin.page(`/history/changes?target_type=user&target_id=${user.id}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /After 之后/);
  });

  test('a normal user sees only their own rows; admins filter everyone', async () => {
    const { client, username, user } = await userClient(admin);
    await client.api('PATCH', '/me', { display_name: 'mine' });
    const own = await client.api('GET', '/audit-logs?per_page=500');
    assert.equal(own.status, 200);
    assert.ok(own.body.data.length >= 2);
    assert.ok(own.body.data.every((row) => row.actor_id === user.id), 'only own rows');
    // Asking for someone else's rows gives nothing, not theirs.
    const theirs = await client.api('GET', '/audit-logs?actor=admin');
    assert.equal(theirs.body.data.length, 0);
    const filtered = await admin.api('GET', `/audit-logs?actor=${username}&action=user.update_self&result=success`);
    assert.equal(filtered.status, 200);
    assert.equal(filtered.body.meta.total, 1);
    assert.equal(filtered.body.data[0].changes.display_name.after, 'mine');
    const prefix = await admin.api('GET', `/audit-logs?actor=${username}&action=auth.*`);
    assert.ok(prefix.body.data.length >= 1 && prefix.body.data.every((r) => r.action.startsWith('auth.')));
    const today = new Date().toISOString().slice(0, 10);
    const ranged = await admin.api('GET', `/audit-logs?actor=${username}&from=${today}`);
    assert.equal(ranged.body.meta.total, own.body.meta.total);
    const future = await admin.api('GET', `/audit-logs?actor=${username}&from=2999-01-01`);
    assert.equal(future.body.meta.total, 0);
    assertError(await admin.api('GET', '/audit-logs?from=yesterday'), 400, 'invalid_parameter');
    assertError(await admin.api('GET', '/audit-logs?result=maybe'), 400, 'invalid_parameter');
    assertError(await admin.api('GET', '/audit-logs?target_id=-1'), 400, 'invalid_parameter');
    assertError(await new Client().api('GET', '/audit-logs'), 401, 'unauthenticated');
    const page = await client.page('/audit-logs');
    assert.equal(page.status, 200);
    assert.match(page.text, /data-action="user\.update_self">changed their own account</);
  });

  test('CSV export quotes every cell and defuses formulas', async () => {
    const { username } = await createUser(admin);
    const evil = new Client('evil', { headers: { 'User-Agent': '=HYPERLINK("http://evil","x"),"quoted"' } });
    await evil.login(username, 'wrong-password-1');
    const res = await admin.get(`/api/v1/audit-logs?format=csv&action=auth.login&result=failure&from=${new Date().toISOString().slice(0, 10)}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/csv/);
    assert.match(res.headers.get('content-disposition'), /attachment; filename="audit-log.csv"/);
    const lines = res.text.split('\r\n');
    assert.equal(lines[0], '"id","time","actor_id","actor","action","target_type","target_id","result","status","detail","changes","ip","user_agent","request_id"');
    const line = lines.find((l) => l.includes(username));
    assert.ok(line, 'the failed login is exported');
    assert.ok(line.includes('"\'=HYPERLINK(""http://evil"",""x""),""quoted"""'), line);
  });

  test('login history: successes and failures with IP and browser, own rows only', async () => {
    const { client, username, password, user } = await userClient(admin);
    await new Client('bad', { headers: { 'User-Agent': 'Guesser/1.0' } }).login(username, 'not-the-password');
    const mine = await client.api('GET', '/history/logins');
    assert.equal(mine.status, 200);
    assert.ok(mine.body.data.every((row) => row.user_id === user.id));
    const failed = mine.body.data.find((row) => !row.success);
    assert.equal(failed.reason, 'bad_password');
    assert.equal(failed.user_agent, 'Guesser/1.0');
    assert.equal(typeof failed.ip, 'string');
    assert.ok(mine.body.data.some((row) => row.success));
    const all = await admin.api('GET', `/history/logins?username=${username}&result=failure`);
    assert.equal(all.body.meta.total, 1);
    const page = await client.page('/history/logins');
    assert.equal(page.status, 200);
    assert.match(page.text, /Guesser\/1\.0/);
    void password;
  });

  test('VM operation history: per VM for who may see it, overall per user', async () => {
    const { client, user } = await userClient(admin);
    const vm = insertVm(user.id);
    const renamed = await client.api('POST', `/vms/${vm}/start`, {});
    const history = await client.api('GET', `/vms/${vm}/history`);
    assert.equal(history.status, 200, history.text);
    const row = history.body.data.find((r) => r.request_id === renamed.requestId);
    assert.ok(row, 'the start attempt is in the history');
    assert.equal(row.target_id, vm);
    const { client: other, username: otherName } = await userClient(admin);
    assertError(await other.api('GET', `/vms/${vm}/history`), 404, 'not_found');
    // Another user's refused attempt (and their name) is for the admins'
    // audit log, not for the owner's VM history.
    const refused = await other.api('POST', `/vms/${vm}/start`, {});
    assertError(refused, 404, 'not_found');
    const owners = (await client.api('GET', `/vms/${vm}/history?per_page=500`)).body.data;
    assert.ok(!owners.some((r) => r.request_id === refused.requestId || r.actor_name === otherName),
      'the owner does not see the stranger\'s attempt');
    const audited = (await admin.api('GET', `/audit-logs?target_type=vm&target_id=${vm}`)).body.data;
    assert.ok(audited.some((r) => r.request_id === refused.requestId && r.actor_name === otherName));
    assert.ok((await admin.api('GET', `/vms/${vm}/history`)).body.data.some((r) => r.request_id === refused.requestId),
      'an admin sees it in the VM history too');
    const overall = await client.api('GET', '/history/vm-operations');
    assert.ok(overall.body.data.some((r) => r.request_id === renamed.requestId));
    assert.ok(overall.body.data.every((r) => r.target_type === 'vm'));
    const admins = await admin.api('GET', `/history/vm-operations?target_id=${vm}`);
    assert.ok(admins.body.data.some((r) => r.request_id === renamed.requestId));
    // What an admin did shows in the owner's VM history, without the admin's address.
    const byAdmin = await admin.api('POST', `/vms/${vm}/stop`, {});
    const seen = (await client.api('GET', `/vms/${vm}/history`)).body.data.find((r) => r.request_id === byAdmin.requestId);
    assert.ok(seen, 'the admin action is in the owner\'s VM history');
    assert.equal(seen.ip, '');
    assert.equal(seen.user_agent, '');
    assert.ok((await client.api('GET', `/vms/${vm}/history`)).body.data.some((r) => r.request_id === renamed.requestId && r.ip !== ''));
    const page = await client.page('/history/vm-operations');
    assert.equal(page.status, 200);
  });
});

describe('the forms of the pages', () => {
  test('profile: settings, a wrong current password shown inline, revoking a token, ending a session', async () => {
    const { client, username, password } = await userClient(admin);
    await client.loginForm(username, password);
    await client.page('/profile');
    const saved = await client.postForm('/profile', { display_name: '表单', email: 'me@example.com', language: 'zh-CN' });
    assert.equal(saved.status, 303);
    assert.equal(saved.location, '/profile');
    const zh = await client.page('/profile');
    assert.match(zh.text, /<html lang="zh-CN">/);
    assert.match(zh.text, /个人资料/);
    assert.match(zh.text, /value="表单"/);
    const wrong = await client.postForm('/profile', { current_password: 'not-it-at-all', password: newPassword() });
    assert.equal(wrong.status, 403);
    assert.match(wrong.text, /id="error"/);
    assert.match(wrong.text, /当前密码错误/);
    const token = (await client.api('POST', '/me/tokens', { name: 'page revoke' })).body.data;
    const revoked = await client.postForm(`/profile/tokens/${token.id}/revoke`, {});
    assert.equal(revoked.status, 303);
    assert.equal((await client.api('GET', '/me/tokens')).body.data.length, 0);
    const other = new Client('other');
    await other.loginOk(username, password);
    const theirs = (await client.api('GET', '/me/sessions')).body.data.find((x) => !x.current && x.id);
    await client.page('/profile');
    const ended = await client.postForm(`/profile/sessions/${theirs.id}/end`, {});
    assert.equal(ended.status, 303);
    assertError(await other.api('GET', '/me'), 401, 'unauthenticated');
  });

  test('user page: quota and delete forms; settings form; audit pages in Chinese', async () => {
    const { user } = await createUser(admin);
    const page = await admin.page(`/users/${user.id}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /id="quota-form"/);
    const set = await admin.postForm(`/users/${user.id}/quota`, { max_vms: '2', max_vcpus: '3', max_memory_mb: '1024', max_disk_gb: '9', max_image_gb: '1' });
    assert.equal(set.status, 303, set.text.slice(0, 300));
    assert.equal(sql(`SELECT max_vms, max_image_gb FROM quotas WHERE user_id = ${user.id}`)[0].join(' '), '2 1');
    await admin.page(`/users/${user.id}`);
    const bad = await admin.postForm(`/users/${user.id}/quota`, { max_vms: '-1', max_vcpus: '3', max_memory_mb: '1024', max_disk_gb: '9', max_image_gb: '1' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /id="error"/);
    const settings = await admin.page('/settings');
    assert.equal(settings.status, 200);
    const off = await admin.postForm('/settings', { registration: 'false' });
    assert.equal(off.status, 303);
    await admin.page(`/users/${user.id}`);
    const deleted = await admin.postForm(`/users/${user.id}/delete`, { reassign_to: '' });
    assert.equal(deleted.status, 303);
    assert.equal(deleted.location, '/users');
    assert.equal(sql(`SELECT COUNT(*) FROM users WHERE id = ${user.id}`)[0][0], '0');
    const zh = { headers: { 'Accept-Language': 'zh-CN' } };
    const { client } = await userClient(admin);
    for (const [path, text] of [['/audit-logs', '审计日志'], ['/history/logins', '登录历史'],
      ['/history/changes', '变更历史'], ['/history/vm-operations', '虚拟机操作历史']]) {
      const res = await client.page(path, zh);
      assert.equal(res.status, 200, path);
      assert.match(res.text, new RegExp(text), path);
    }
  });
});
