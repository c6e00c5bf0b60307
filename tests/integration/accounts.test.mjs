// Accounts as an attacker meets them: guessing passwords is slowed per
// account and address without locking the owner out (also the current
// password of PATCH /me), weak passwords are refused wherever one is set,
// user names match exactly, names refuse invisible and text-direction
// characters, and a template download is a file, not JSON.
//
// Other client addresses: every 127.x address is this machine, so a
// request bound to 127.0.0.2 reaches nginx (on 127.0.0.1) from there.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import {
  ADMIN_PASSWORD, ADMIN_USER, BASE, Client, STATE, adminClient, assertError, createUser, dataOf,
  elementText, newPassword, q, sql, uniqueName, userClient,
} from './lib.mjs';
import { metadataHeader, tusRequest } from './tus.mjs';

let admin;
before(async () => {
  admin = await adminClient();
});
after(async () => {
  await admin?.logout();
});

/** A JSON login sent from a given local address: { status, retryAfter, body }. */
function loginFrom(address, username, password) {
  const body = JSON.stringify({ username, password });
  const url = new URL('/api/v1/auth/login', BASE);
  return new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress: address,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(text); } catch { json = null; }
        resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'], body: json, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function assertRefused(res, code) {
  assert.equal(res.status, code === 'too_many_attempts' ? 429 : 401, res.text);
  assert.equal(res.body?.error?.code, code, res.text);
}

/** Ends the wait of a counter now (as if its time had passed). */
function endWait(username, address) {
  sql(`UPDATE login_throttle SET blocked_until = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND
       WHERE username = ${q(username)} AND address = ${q(address)}`);
}

describe('password guessing is slowed, nobody is locked out', () => {
  test('a stranger\'s wrong passwords slow only the stranger\'s address, doubling the wait', async () => {
    const { username, password } = await createUser(admin);
    const stranger = '127.0.0.2';
    for (let i = 1; i <= 5; i++) assertRefused(await loginFrom(stranger, username, `Wrong-Guess-${i}`), 'invalid_credentials');
    let res = await loginFrom(stranger, username, password);
    assertRefused(res, 'too_many_attempts');
    assert.ok(Number(res.retryAfter) >= 1 && Number(res.retryAfter) <= 1, `Retry-After ${res.retryAfter}`);
    assert.match(res.body.error.message, /Try again in 1 second/);
    // The owner, anywhere else, is not slowed at all.
    assert.equal((await loginFrom('127.0.0.3', username, password)).status, 200);
    assert.equal((await new Client().login(username, password)).status, 200);

    // Each further failure from there doubles the wait: 2 s, then 4 s.
    endWait(username, stranger);
    assertRefused(await loginFrom(stranger, username, 'Wrong-Guess-6'), 'invalid_credentials');
    res = await loginFrom(stranger, username, 'Wrong-Guess-7');
    assertRefused(res, 'too_many_attempts');
    assert.ok(Number(res.retryAfter) >= 1 && Number(res.retryAfter) <= 2, `Retry-After ${res.retryAfter}`);
    endWait(username, stranger);
    assertRefused(await loginFrom(stranger, username, 'Wrong-Guess-7'), 'invalid_credentials');
    res = await loginFrom(stranger, username, password);
    assertRefused(res, 'too_many_attempts');
    assert.ok(Number(res.retryAfter) >= 3 && Number(res.retryAfter) <= 4, `Retry-After ${res.retryAfter}`);
    const [[failures]] = sql(`SELECT failures FROM login_throttle WHERE username = ${q(username)} AND address = ${q(stranger)}`);
    assert.equal(failures, '7', 'tries refused while waiting are not counted');

    // The wait over, the right password works from there too and clears the count.
    endWait(username, stranger);
    assert.equal((await loginFrom(stranger, username, password)).status, 200);
    assert.equal(sql(`SELECT COUNT(*) FROM login_throttle WHERE username = ${q(username)} AND address = ${q(stranger)}`)[0][0], '0');
  });

  test('an admin account is slowed for the guessing address only', async () => {
    try {
      for (let i = 1; i <= 5; i++) assertRefused(await loginFrom('127.0.0.4', ADMIN_USER, `Wrong-Admin-${i}`), 'invalid_credentials');
      assertRefused(await loginFrom('127.0.0.4', ADMIN_USER, ADMIN_PASSWORD), 'too_many_attempts');
      const c = new Client();
      await c.loginOk(ADMIN_USER, ADMIN_PASSWORD);
      await c.logout();
    } finally {
      sql(`DELETE FROM login_throttle WHERE username = ${q(ADMIN_USER)}`);
    }
  });

  test('unknown user names are counted the same way, so a 429 tells nothing', async () => {
    const ghost = uniqueName('ghost');
    for (let i = 1; i <= 5; i++) assertRefused(await loginFrom('127.0.0.5', ghost, `Wrong-Guess-${i}`), 'invalid_credentials');
    assertRefused(await loginFrom('127.0.0.5', ghost, 'Wrong-Guess-6'), 'too_many_attempts');
  });

  test('over all addresses, a crowd slows only addresses the account never logged in from', async () => {
    const { username, password } = await createUser(admin);
    const home = '127.0.0.6';
    assert.equal((await loginFrom(home, username, password)).status, 200, 'the owner has logged in from home');
    // Failures from several addresses add up on the account.
    for (const address of ['127.0.0.7', '127.0.0.8']) {
      for (let i = 1; i <= 3; i++) assertRefused(await loginFrom(address, username, `Wrong-Crowd-${i}`), 'invalid_credentials');
    }
    assert.equal(sql(`SELECT failures FROM login_throttle WHERE username = ${q(username)} AND address = ''`)[0][0], '6');
    // A crowd past the ceiling (50): the account-wide wait, at most 60 s.
    sql(`UPDATE login_throttle SET failures = 80, blocked_until = UTC_TIMESTAMP(3) + INTERVAL 30 SECOND
         WHERE username = ${q(username)} AND address = ''`);
    const fresh = await loginFrom('127.0.0.9', username, password);
    assertRefused(fresh, 'too_many_attempts');
    assert.ok(Number(fresh.retryAfter) <= 30, `Retry-After ${fresh.retryAfter}`);
    assert.equal((await loginFrom(home, username, password)).status, 200, 'home is never slowed by the crowd');
    // The account's own wait never exceeds its cap.
    endWait(username, '');
    assertRefused(await loginFrom('127.0.0.10', username, 'Wrong-Crowd-x'), 'invalid_credentials');
    const [[wait]] = sql(`SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(3), blocked_until) FROM login_throttle
                          WHERE username = ${q(username)} AND address = ''`);
    assert.ok(Number(wait) <= 60 && Number(wait) >= 50, `account wait ${wait}`);
  });

  test('PATCH /me: wrong current passwords are counted and slowed like logins', async () => {
    const { client, username, password } = await userClient(admin);
    const fresh = newPassword();
    for (let i = 1; i <= 5; i++) {
      assertError(await client.api('PATCH', '/me', { password: fresh, current_password: `Wrong-Current-${i}` }), 403, 'wrong_password');
    }
    const res = await client.api('PATCH', '/me', { password: fresh, current_password: password });
    assertError(res, 429, 'too_many_attempts');
    assert.equal(res.body.error.field, 'current_password');
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    // Nothing changed: the old password still works (from elsewhere).
    assert.equal((await loginFrom('127.0.0.11', username, password)).status, 200);
    endWait(username, '127.0.0.1');
    const ok = await client.api('PATCH', '/me', { password: fresh, current_password: password });
    assert.equal(ok.status, 200, ok.text);
    await new Client().loginOk(username, fresh);
  });
});

describe('passwords', () => {
  test('self-registration refuses a weak password and makes no account', async () => {
    assert.equal((await admin.api('PATCH', '/settings', { registration: true })).status, 200);
    try {
      const name = uniqueName('reg');
      const res = await new Client().api('POST', '/auth/register', { username: name, password: 'password123' });
      assertError(res, 422, 'weak_password');
      assert.equal(res.body.error.field, 'password');
      assert.equal((await admin.api('GET', `/users?q=${name}`)).body.meta.total, 0);
      const good = await new Client().api('POST', '/auth/register', { username: name, password: newPassword() });
      assert.equal(good.status, 201, good.text);
    } finally {
      await admin.api('PATCH', '/settings', { registration: false });
    }
  });

  test('vmm-user ensure-admin refuses a weak password', () => {
    const name = uniqueName('adm');
    const run = (password) => execFileSync(`${process.cwd()}/admin/vmm-user`, ['ensure-admin', name], {
      input: `${password}\n`, env: { ...process.env, VMM_CONFIG: `${STATE}/vmmanager.conf`, VMM_DATABASE_USER: 'root' },
      stdio: ['pipe', 'pipe', 'pipe'], encoding: 'utf8',
    });
    assert.throws(() => run('password123'), (e) => e.status === 1 && /too common|dictionary/.test(e.stderr));
    assert.equal(sql(`SELECT COUNT(*) FROM users WHERE username = ${q(name)}`)[0][0], '0');
    run(newPassword());
    assert.equal(sql(`SELECT role FROM users WHERE username = ${q(name)}`)[0][0], 'admin');
    sql(`DELETE FROM users WHERE username = ${q(name)}`);
  });
});

describe('user names', () => {
  test('a user name logs in only as spelled, and is unique regardless of case', async () => {
    const name = `Mixed_${uniqueName('c').slice(2)}`;
    const { password } = await createUser(admin, { username: name });
    for (const variant of [name.toLowerCase(), name.toUpperCase(), `${name} `, ` ${name}`]) {
      assertError(await new Client().login(variant, password), 401, 'invalid_credentials');
    }
    assert.equal((await new Client().login(name, password)).status, 200);
    assertError(await admin.api('POST', '/users', { username: name.toLowerCase(), password: newPassword() }), 409, 'username_taken');
    assertError(await admin.api('POST', '/users', { username: name, password: newPassword() }), 409, 'username_taken');
    const [[collation]] = sql("SELECT COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'vmm' "
      + "AND TABLE_NAME = 'users' AND COLUMN_NAME = 'username'");
    assert.equal(collation, 'utf8mb4_nopad_bin');
  });
});

describe('names refuse invisible and text-direction characters', () => {
  const BAD = ['a\u202Eexe.txt', 'x\u200By', '\uFEFFname', 'ad\u00ADmin', 'a\u2066b\u2069', 'a\u200Fb', 'a\u061Cb'];

  test('user, display and token names; 测试服务器 stays a name', async () => {
    for (const bad of BAD) {
      const res = await admin.api('POST', '/users', { username: uniqueName('b'), password: newPassword(), display_name: bad });
      assertError(res, 400, 'invalid_characters');
      assert.equal(res.body.error.field, 'display_name');
    }
    assertError(await admin.api('POST', '/users', { username: 'ab\u200Bcd', password: newPassword() }), 400, 'invalid_characters');
    const { client, user } = await userClient(admin);
    for (const bad of BAD) {
      assertError(await client.api('PATCH', '/me', { display_name: bad }), 400, 'invalid_characters');
      assertError(await client.api('POST', '/me/tokens', { name: bad }), 400, 'invalid_characters');
      assertError(await admin.api('PATCH', `/users/${user.id}`, { display_name: bad }), 400, 'invalid_characters');
    }
    assert.equal((await client.api('GET', '/me/tokens')).body.data.length, 0);
    const ok = await client.api('PATCH', '/me', { display_name: '测试服务器' });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(dataOf(ok).display_name, '测试服务器');
    assert.equal((await client.api('POST', '/me/tokens', { name: '脚本 token' })).status, 201);
    // The form says it inline too.
    await client.page('/profile');
    const form = await client.postForm('/profile', { display_name: 'evil\u202Etxt.exe' });
    assert.equal(form.status, 400);
    assert.ok(elementText(form.text, 'error'));
  });

  test('VM, template and upload names', async () => {
    const { client } = await userClient(admin);
    const templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
    const before = sql('SELECT COUNT(*) FROM vms')[0][0];
    const vm = await client.api('POST', '/vms', { name: 'web\u202E1', template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1 });
    assertError(vm, 400, 'invalid_characters');
    assert.equal(vm.body.error.field, 'name');
    assert.equal(sql('SELECT COUNT(*) FROM vms')[0][0], before, 'no VM was made');
    const tpl = await admin.api('PATCH', `/templates/${templateId}`, { name: 'Demo\u200B' });
    assertError(tpl, 400, 'invalid_characters');
    assert.equal(sql(`SELECT name FROM templates WHERE id = ${templateId}`)[0][0], 'Demo (busybox)');
    for (const key of ['name', 'category', 'os']) {
      const meta = { filename: 'a.iso', kind: 'iso', name: 'An ISO', [key]: 'gpj\u202Eexe.iso' };
      const res = await tusRequest(client, 'POST', '/api/v1/uploads', {
        headers: { 'Upload-Length': '2048', 'Upload-Metadata': metadataHeader(meta) },
      });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body?.error?.code, 'invalid_metadata');
      assert.equal(res.body?.error?.field, key);
    }
    // The file name is the uploader's disk's: kept as text, with the same
    // characters made '_' (as control characters already were).
    const named = await tusRequest(client, 'POST', '/api/v1/uploads', {
      headers: { 'Upload-Length': '2048', 'Upload-Metadata': metadataHeader({ filename: 'gpj\u202Eexe.\u200Biso', kind: 'iso' }) },
    });
    assert.equal(named.status, 201, named.text);
    const uploadId = Number(/(\d+)$/.exec(named.headers.get('location'))[1]);
    assert.equal(sql(`SELECT filename FROM uploads WHERE id = ${uploadId}`)[0][0], 'gpj_exe._iso');
    await tusRequest(client, 'DELETE', named.headers.get('location'));
    const ok = await tusRequest(client, 'POST', '/api/v1/uploads', {
      headers: { 'Upload-Length': '2048', 'Upload-Metadata': metadataHeader({ filename: '测试.iso', kind: 'iso', name: '测试服务器' }) },
    });
    assert.equal(ok.status, 201, ok.text);
    await tusRequest(client, 'DELETE', ok.headers.get('location'));
  });
});

test('a template download is application/octet-stream with nosniff, on the API and the page route', async () => {
  const { client } = await userClient(admin);
  const templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
  for (const path of [`/api/v1/templates/${templateId}/download`, `/templates/${templateId}/download`]) {
    const res = await fetch(`${BASE}${path}`, { headers: { Cookie: client.cookieHeader() } });
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream', path);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
    assert.match(res.headers.get('content-disposition') || '', /^attachment; filename="Demo__busybox_\.qcow2"$/, path);
    const reader = res.body.getReader();
    const head = await reader.read();
    assert.equal(Buffer.from(head.value.subarray(0, 4)).toString('latin1'), 'QFI\xfb', 'the qcow2 itself');
    await reader.cancel();
  }
});
