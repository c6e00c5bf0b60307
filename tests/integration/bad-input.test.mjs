// Hostile and broken requests: every one gets a clear 4xx, never a 500,
// and nothing a user typed ever comes back as live HTML.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Client, adminClient, assertError, createUser, newPassword, uniqueName, userClient,
} from './lib.mjs';

let admin;
let user; // { client, user, username, password }
const seen = []; // [what, status] of every answer in this file

before(async () => {
  admin = await adminClient();
  user = await userClient(admin);
});

/** Records the answer and checks it is not a server error. */
function ok4xx(res, what) {
  seen.push([what, res.status]);
  assert.ok(res.status < 500, `${what}: ${res.status} ${res.text.slice(0, 200)}`);
  return res;
}

/** Posts a raw body to the JSON login; type null sends no Content-Type at all. */
async function rawLogin(body, type = 'application/json') {
  const raw = type === null ? Buffer.from(body) : body;
  return ok4xx(await new Client().request('POST', '/api/v1/auth/login', { body: raw, type }), `login ${body.slice(0, 40)}`);
}

test('malformed JSON answers 400 invalid_json', async () => {
  for (const body of ['{"username":', '{username: "a"}', 'null', '[]', '"text"', '42', '{"a":1}{', '\u00ff\u00fe']) {
    assertError(await rawLogin(body), 400, 'invalid_json');
  }
  assertError(await rawLogin('{"username":"a","username":"b","password":"x"}'), 400, 'invalid_json');
  assertError(ok4xx(await user.client.request('PATCH', '/api/v1/me', { body: '{"display_name":', type: 'application/json' }), 'patch me'), 400, 'invalid_json');
  assertError(ok4xx(await admin.request('POST', '/api/v1/users', { body: '{,}', type: 'application/json' }), 'create'), 400, 'invalid_json');
});

test('wrong types answer 400 invalid_type with the field', async () => {
  const cases = [
    [{ username: 1, password: 'x' }, 'username'],
    [{ username: 'a', password: ['x'] }, 'password'],
    [{ username: null, password: 'x' }, 'username'],
    [{ username: 'a', password: { p: 1 } }, 'password'],
  ];
  for (const [json, field] of cases) {
    const res = ok4xx(await new Client().api('POST', '/auth/login', json), `login ${JSON.stringify(json)}`);
    assertError(res, 400, 'invalid_type');
    assert.equal(res.body.error.field, field);
  }
  const target = (await createUser(admin)).user;
  const enabled = ok4xx(await admin.api('PATCH', `/users/${target.id}`, { enabled: 'yes' }), 'enabled yes');
  assertError(enabled, 400, 'invalid_type');
  assert.equal(enabled.body.error.field, 'enabled');
  assertError(ok4xx(await admin.api('PATCH', `/users/${target.id}`, { enabled: 0 }), 'enabled 0'), 400, 'invalid_type');
  assertError(ok4xx(await admin.api('PATCH', `/users/${target.id}`, { display_name: 7 }), 'dn 7'), 400, 'invalid_type');
  assertError(ok4xx(await admin.api('PATCH', `/users/${target.id}`, { role: 1 }), 'role 1'), 400, 'invalid_choice');
  assertError(ok4xx(await user.client.api('PATCH', '/me', { language: true }), 'lang true'), 400, 'invalid_choice');
  assert.equal((await admin.api('GET', `/users/${target.id}`)).body.data.enabled, true);
});

test('unknown and missing fields, lengths and control characters answer 400', async () => {
  const unknown = ok4xx(await new Client().api('POST', '/auth/login', { username: 'a', password: 'b', admin: true }), 'unknown');
  assertError(unknown, 400, 'unknown_field');
  assert.equal(unknown.body.error.field, 'admin');
  const unknownMe = ok4xx(await user.client.api('PATCH', '/me', { role: 'admin' }), 'me role');
  assertError(unknownMe, 400, 'unknown_field');
  assert.equal((await user.client.api('GET', '/me')).body.data.role, 'user');
  assertError(ok4xx(await admin.api('POST', '/users', { username: uniqueName('f'), password: newPassword(), is_admin: true }), 'is_admin'), 400, 'unknown_field');

  const missing = ok4xx(await new Client().api('POST', '/auth/login', { username: 'someone' }), 'missing');
  assertError(missing, 400, 'missing_field');
  assert.equal(missing.body.error.field, 'password');
  assertError(ok4xx(await new Client().api('POST', '/auth/login', {}), 'empty object'), 400, 'missing_field');
  assertError(ok4xx(await new Client().request('POST', '/api/v1/auth/login', {}), 'no body'), 400, 'missing_field');

  const long = ok4xx(await new Client().api('POST', '/auth/login', { username: 'u'.repeat(65), password: 'x' }), 'long');
  assertError(long, 400, 'invalid_length');
  assert.equal(long.body.error.field, 'username');
  assertError(ok4xx(await new Client().api('POST', '/auth/login', { username: '', password: 'x' }), 'empty'), 400, 'invalid_length');
  assertError(ok4xx(await user.client.api('PATCH', '/me', { display_name: '名'.repeat(65) }), 'dn 65'), 400, 'invalid_length');
  assert.equal((await user.client.api('PATCH', '/me', { display_name: '名'.repeat(64) })).status, 200, '64 characters fit');
  assertError(ok4xx(await user.client.api('PATCH', '/me', { display_name: 'a\u0007b' }), 'bell'), 400, 'invalid_characters');
  assertError(ok4xx(await user.client.api('PATCH', '/me', { display_name: 'line\nbreak' }), 'newline'), 400, 'invalid_characters');
  const nul = ok4xx(await user.client.api('PATCH', '/me', { display_name: 'a\u0000b' }), 'nul');
  assert.equal(nul.status, 400);
  assert.equal((await user.client.api('GET', '/me')).body.data.display_name, '名'.repeat(64));
});

test('a body that is not application/json answers 415', async () => {
  const body = JSON.stringify({ username: 'a', password: 'b' });
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml', null]) {
    assertError(await rawLogin(body, type), 415, 'unsupported_media_type');
  }
  assertError(await rawLogin(body, 'application/json; charset=utf-8'), 401, 'invalid_credentials');
  const res = ok4xx(await user.client.request('PATCH', '/api/v1/me', { body: 'display_name=x', type: 'application/x-www-form-urlencoded' }), 'me form');
  assertError(res, 415, 'unsupported_media_type');
  // A page form sent as JSON is refused too (and not run).
  await admin.page('/users');
  const name = uniqueName('js');
  const page = ok4xx(await admin.request('POST', '/users', {
    body: JSON.stringify({ username: name, password: newPassword() }),
    type: 'application/json',
    headers: { 'X-CSRF-Token': admin.csrf },
  }), 'page as json');
  assert.equal(page.status, 415);
  assert.equal((await admin.api('GET', `/users?q=${name}`)).body.meta.total, 0);
});

test('a body over 1 MiB answers 413; a big one under it is a plain 400', async () => {
  const huge = JSON.stringify({ username: 'a', password: 'x'.repeat(1024 * 1024) });
  const res = ok4xx(await new Client().request('POST', '/api/v1/auth/login', { body: huge, type: 'application/json' }), 'huge');
  assertError(res, 413, 'body_too_large');
  const patch = ok4xx(await user.client.request('PATCH', '/api/v1/me', { body: JSON.stringify({ display_name: 'y'.repeat(2 * 1024 * 1024) }), type: 'application/json' }), 'huge patch');
  assertError(patch, 413, 'body_too_large');
  await admin.page('/users');
  const form = ok4xx(await admin.postForm('/users', { username: uniqueName('big'), password: newPassword(), display_name: 'w'.repeat(1100 * 1024) }), 'huge form');
  assert.equal(form.status, 413);
  const big = ok4xx(await user.client.api('PATCH', '/me', { display_name: 'z'.repeat(900 * 1024) }), 'big patch');
  assertError(big, 400, 'invalid_length');
});

test('huge headers are refused cleanly; big but allowed ones are served', async () => {
  const c = new Client();
  const huge = ok4xx(await c.get('/login', { headers: { 'X-Filler': 'a'.repeat(20000) } }), 'huge header');
  assert.ok([400, 431].includes(huge.status), `status ${huge.status}`);
  const hugeCookie = ok4xx(await c.get('/', { headers: { Cookie: `vmm_session=${'b'.repeat(20000)}` } }), 'huge cookie');
  assert.ok([400, 431].includes(hugeCookie.status), `status ${hugeCookie.status}`);
  const bigApi = ok4xx(await c.get('/api/v1/me', { headers: { 'Accept-Language': 'x'.repeat(20000) } }), 'huge api header');
  assert.ok([400, 431].includes(bigApi.status), `status ${bigApi.status}`);

  const cookies = Array.from({ length: 100 }, (_, i) => `junk${i}=${'c'.repeat(40)}`).join('; ');
  const many = ok4xx(await new Client().get('/login', { headers: { Cookie: `${cookies}; vmm_session=zz` } }), 'many cookies');
  assert.equal(many.status, 200);
  const weirdLang = ok4xx(await new Client().get('/login', {
    headers: { 'Accept-Language': `zh;q=abc, en;q=-1, ,,,;;;, ${'de, '.repeat(60)}zh-CN;q=0.1` },
  }), 'weird accept-language');
  assert.equal(weirdLang.status, 200);
  const badSession = ok4xx(await new Client().get('/api/v1/me', { headers: { Cookie: 'vmm_session=../../etc/passwd' } }), 'bad cookie');
  assertError(badSession, 401, 'unauthenticated');
});

test('an API header over 8 KiB answers 431 with the JSON error shape (docs/api.md)', async () => {
  const res = ok4xx(await new Client().get('/api/v1/auth/me', { headers: { 'X-Filler': 'a'.repeat(9000) } }), '9 KiB header');
  assert.equal(res.status, 431, `status ${res.status} ${res.headers.get('content-type')}`);
  assert.ok(res.body?.error?.code, `JSON error body, got: ${res.text.slice(0, 80)}`);
});

test('NUL, bad escapes and invalid UTF-8 in the path answer 400', async () => {
  const c = new Client();
  for (const path of ['/%00', '/api/v1/%00', '/users/1%00', '/api/v1/users/%00', '/%ff', '/login%zz', '/%c0%af']) {
    const res = ok4xx(await c.get(path), path);
    assert.equal(res.status, 400, path);
  }
  for (const path of ['/?q=%00', '/api/v1/users?q=%00', '/api/v1/users?q=%ff']) {
    const res = ok4xx(await admin.get(path), path);
    assert.equal(res.status, 400, path);
  }
});

test('unknown API routes answer 404 JSON, unknown pages a 404 page with the layout', async () => {
  const anon = new Client();
  for (const path of ['/api/v1/nothing', '/api/v1/users/1/nothing', '/api/v1/auth/nothing', '/api/v2/users', '/api']) {
    const res = ok4xx(await anon.get(path), path);
    assertError(res, 404, 'not_found');
    assert.match(res.headers.get('content-type'), /^application\/json/);
  }
  assertError(ok4xx(await admin.get('/api/v1/nothing'), 'admin api 404'), 404, 'not_found');

  for (const [client, path] of [[anon, '/nothing'], [admin, '/no/such/page'], [user.client, '/users-not']]) {
    const res = ok4xx(await client.get(path), path);
    assert.equal(res.status, 404, path);
    assert.match(res.headers.get('content-type'), /^text\/html/);
    assert.match(res.text, /<html lang="en">/);
    assert.match(res.text, /class="topbar"/, 'the layout header');
    assert.match(res.text, /href="\/static\/css\/app.css"/);
    assert.match(res.text, /<footer/);
  }
  const zh = ok4xx(await new Client('zh', { headers: { 'Accept-Language': 'zh-CN' } }).get('/nothing'), 'zh 404');
  assert.equal(zh.status, 404);
  assert.match(zh.text, /<html lang="zh-CN">/);
});

test('a method a route does not have answers 405, not 500', async () => {
  const target = (await createUser(admin)).user;
  assertError(ok4xx(await admin.api('PUT', `/users/${target.id}`, {}), 'put user'), 405, 'method_not_allowed');
  assertError(ok4xx(await admin.api('PUT', '/me', { display_name: 'x' }), 'put me'), 405, 'method_not_allowed');
  ok4xx(await admin.request('PATCH', '/users', { form: { x: 1 } }), 'patch page');
  ok4xx(await new Client().request('DELETE', '/login'), 'delete login');
  const head = ok4xx(await admin.request('HEAD', '/users'), 'head');
  assert.equal(head.status, 200);
  assert.equal((await admin.api('GET', `/users/${target.id}`)).status, 200);
});

test('bad user ids answer 404', async () => {
  for (const id of ['abc', '0', '-1', '1.5', '99999999999999999999', '999999999', '1e3', ' 1', '0x10']) {
    const path = `/api/v1/users/${encodeURIComponent(id)}`;
    assertError(ok4xx(await admin.get(path), path), 404, 'not_found');
    ok4xx(await admin.api('PATCH', `/users/${encodeURIComponent(id)}`, { display_name: 'x' }), `patch ${id}`);
  }
  for (const path of ['/users/abc', '/users/0', '/users/999999999', '/users/1/nothing']) {
    const res = ok4xx(await admin.get(path), path);
    assert.equal(res.status, 404, path);
    assert.match(res.text, /class="topbar"/);
  }
  // Not a way around the rights either: the admin-only 404 is a 403 for a user.
  assertError(ok4xx(await user.client.api('GET', '/users/999999999'), 'user 404'), 403, 'forbidden');
});

test('bad list parameters answer 400 invalid_parameter', async () => {
  const cases = [
    'per_page=501', 'per_page=0', 'per_page=-5', 'per_page=abc', 'page=0', 'page=1.5',
    'page=99999999999999999999', 'sort=password', 'sort=-password_hash', 'sort=id;DROP TABLE users',
    'role=superuser', 'enabled=yes', `q=${'x'.repeat(101)}`,
  ];
  for (const qs of cases) {
    const res = ok4xx(await admin.api('GET', `/users?${qs}`), qs);
    assertError(res, 400, 'invalid_parameter');
  }
  const max = await admin.api('GET', '/users?per_page=500&sort=-last_login_at');
  assert.equal(max.status, 200);
  assert.equal(max.body.meta.per_page, 500);
  const far = await admin.api('GET', '/users?page=1000000&per_page=500');
  assert.equal(far.status, 200);
  assert.deepEqual(far.body.data, []);
  // The page shows the same refusal as a 400 page.
  const page = ok4xx(await admin.get('/users?per_page=501'), 'page per_page');
  assert.equal(page.status, 400);
});

test('bad form posts answer 4xx', async () => {
  await admin.page('/users');
  const token = admin.pageToken;
  const cases = [
    ['bad escape', `csrf_token=${token}&username=%zz&password=aaaaaaaaa`],
    ['invalid utf-8', `csrf_token=${token}&username=%ff%fe%fd&password=aaaaaaaaa`],
    ['no values', `csrf_token=${token}&&&=&==`],
    ['nul', `csrf_token=${token}&username=a%00b&password=aaaaaaaaa`],
  ];
  for (const [what, body] of cases) {
    const res = ok4xx(await admin.request('POST', '/users', { body, type: 'application/x-www-form-urlencoded', csrf: false }), what);
    assert.ok(res.status >= 400, `${what}: ${res.status}`);
  }
  const enabled = ok4xx(await admin.postForm('/users/1', { enabled: 'maybe' }), 'enabled maybe');
  assert.equal(enabled.status, 400);
});

const HOSTILE = '<script>alert(1)</script>';
const HOSTILE_RE = /<script>alert\(1\)<\/script>|<script>alert/i;

function assertNoHostileMarkup(html, what) {
  assert.doesNotMatch(html, HOSTILE_RE, `${what} contains unescaped hostile markup`);
  assert.doesNotMatch(html, /<img\/src=x/i, `${what} contains an unescaped img`);
}

test('a hostile display name or user name never comes back unescaped', async () => {
  const { client, user: victim } = await userClient(admin, { display_name: HOSTILE });
  const hostileEmail = `"><img/src=x/onerror=alert(1)>@x.example`;
  const patch = await admin.api('PATCH', `/users/${victim.id}`, { email: hostileEmail });
  assert.equal(patch.status, 200);
  // The API returns the text as it was typed: JSON is not HTML.
  assert.equal((await admin.api('GET', `/users/${victim.id}`)).body.data.display_name, HOSTILE);

  const pages = [
    ['own dashboard', await client.get('/')],
    ['admin users page', await admin.get(`/users?q=${victim.username}`)],
    ['admin user page', await admin.get(`/users/${victim.id}`)],
  ];
  for (const [what, res] of pages) {
    ok4xx(res, what);
    assert.equal(res.status, 200, what);
    assertNoHostileMarkup(res.text, what);
    assert.ok(res.text.includes('&lt;script&gt;'), `${what} shows the name escaped`);
  }

  // Typed into forms that fail: the user name comes back in the form, escaped.
  await admin.page('/users');
  const form = ok4xx(await admin.postForm('/users', { username: HOSTILE, display_name: HOSTILE, password: newPassword() }), 'create form');
  assert.equal(form.status, 400);
  assertNoHostileMarkup(form.text, 'failed create form');
  const field = ok4xx(await admin.postForm('/users', { [HOSTILE]: 'x', username: uniqueName('h'), password: newPassword() }), 'hostile field');
  assert.equal(field.status, 400);
  assertNoHostileMarkup(field.text, 'unknown hostile field');

  const login = new Client();
  const failed = ok4xx(await login.loginForm(HOSTILE, 'whatever-pw'), 'login form');
  assertNoHostileMarkup(failed.text, 'failed login');
  const next = ok4xx(await login.get(`/login?next=${encodeURIComponent(`/"><script>alert(1)</script>`)}`), 'login next');
  assertNoHostileMarkup(next.text, 'login next');
  const path = ok4xx(await login.get(`/${encodeURIComponent('"><script>alert(1)</script>')}`), 'hostile path');
  assert.equal(path.status, 404);
  assertNoHostileMarkup(path.text, '404 page');

  // The API's own messages are JSON, served as JSON.
  const api = ok4xx(await admin.api('POST', '/users', { username: uniqueName('k'), password: newPassword(), [HOSTILE]: 1 }), 'api hostile field');
  assertError(api, 400, 'unknown_field');
  assert.match(api.headers.get('content-type'), /^application\/json/);
});

after(async () => {
  await admin?.logout();
  await user?.client.logout();
  const bad = seen.filter(([, status]) => status >= 500);
  assert.deepEqual(bad, [], 'no request of this file answered 5xx');
  assert.ok(seen.length > 50, `checked ${seen.length} answers`);
});
