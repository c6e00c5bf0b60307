// Logging in and out (JSON and forms), CSRF, throttling, disabled accounts,
// security headers, UTF-8 and the language switch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN_USER, Client, adminClient, assertError, createUser, elementText, formToken,
  newPassword, q, sql, userClient,
} from './lib.mjs';

let admin;
before(async () => {
  admin = await adminClient();
});
after(async () => {
  await admin?.logout();
});

test('JSON login returns the user and a CSRF token, sets an HttpOnly SameSite=Strict cookie', async () => {
  const { username, password, user } = await createUser(admin, { display_name: 'Json Login' });
  const c = new Client();
  const res = await c.login(username, password);
  assert.equal(res.status, 200);
  const data = res.body.data;
  assert.equal(data.user.username, username);
  assert.equal(data.user.id, user.id);
  assert.equal(data.user.display_name, 'Json Login');
  assert.equal(data.user.role, 'user');
  assert.equal(data.user.enabled, true);
  for (const k of ['email', 'language', 'created_at', 'last_login_at']) assert.ok(k in data.user, k);
  assert.match(data.csrf_token, /^[0-9a-f]{32,}$/);
  const cookie = res.setCookies.find((s) => s.startsWith('vmm_session='));
  assert.ok(cookie, 'vmm_session cookie set');
  assert.match(cookie, /;\s*HttpOnly/i);
  assert.match(cookie, /;\s*SameSite=Strict/i);

  const authMe = await c.api('GET', '/auth/me');
  assert.equal(authMe.status, 200);
  assert.equal(authMe.body.data.user.username, username);
  assert.equal(authMe.body.data.csrf_token, data.csrf_token);
  const me = await c.api('GET', '/me');
  assert.equal(me.status, 200);
  assert.equal(me.body.data.id, user.id);

  const dash = await c.api('GET', '/dashboard');
  assert.equal(dash.status, 200);
  assert.equal(dash.body.data.user.username, username);
  assert.ok(dash.body.data.counts.sessions >= 1);
  assert.equal(dash.body.data.totals, undefined, 'a normal user sees no portal totals');

  const out = await c.logout();
  assert.equal(out.status, 200);
  assert.equal(out.body.data.logged_out, true);
  assertError(await c.api('GET', '/auth/me'), 401, 'unauthenticated');
});

test('the admin dashboard shows portal totals', async () => {
  const res = await admin.api('GET', '/dashboard');
  assert.equal(res.status, 200);
  assert.equal(res.body.data.user.username, ADMIN_USER);
  assert.ok(res.body.data.totals.users >= 1);
  assert.ok(res.body.data.totals.users_enabled >= 1);
});

test('wrong password and unknown user both answer 401 invalid_credentials', async () => {
  const { username } = await createUser(admin);
  const c = new Client();
  assertError(await c.login(username, 'not-the-password'), 401, 'invalid_credentials');
  assertError(await c.login(`${username}x`, 'whatever-pw'), 401, 'invalid_credentials');
  assert.equal(c.cookie('vmm_session'), undefined);
  assertError(await c.api('GET', '/me'), 401, 'unauthenticated');
});

test('anonymous API calls get 401 and anonymous pages go to the login page', async () => {
  const c = new Client();
  for (const path of ['/auth/me', '/me', '/dashboard']) assertError(await c.api('GET', path), 401, 'unauthenticated');
  const home = await c.get('/');
  assert.equal(home.status, 303);
  assert.equal(home.location, '/login?next=/');
});

test('form login: /login sets the form cookie, posting the form lands on the dashboard', async () => {
  const { username, password } = await createUser(admin, { display_name: 'Form Person' });
  const c = new Client();
  const page = await c.page('/login');
  assert.equal(page.status, 200);
  const token = formToken(page.text);
  assert.ok(token, 'the login form has a csrf_token');
  assert.equal(c.cookie('vmm_csrf'), token, 'cookie vmm_csrf equals the form token');
  assert.match(page.text, /id="login-form"/);

  const res = await c.postForm('/login', { username, password, next: '/' });
  assert.equal(res.status, 303);
  assert.equal(res.location, '/');
  assert.ok(c.cookie('vmm_session'), 'logged in');

  const home = await c.get('/');
  assert.equal(home.status, 200);
  assert.equal(elementText(home.text, 'username'), username);
  assert.equal(elementText(home.text, 'me'), 'Form Person');
  assert.match(home.text, /id="logout"/);
});

test('form login follows a local next and refuses another site', async () => {
  const { username, password } = await createUser(admin);
  const c = new Client();
  const res = await c.loginForm(username, password, '/me-somewhere?x=1');
  assert.equal(res.status, 303);
  assert.equal(res.location, '/me-somewhere?x=1');

  const d = new Client();
  const evil = await d.loginForm(username, password, '//evil.example/');
  assert.equal(evil.status, 303);
  assert.equal(evil.location, '/');
});

test('form login never sends the user to another site (next with //, backslash or a line break)', async () => {
  const { username, password } = await createUser(admin);
  for (const next of ['/\\evil.example', '//evil.example', 'https://evil.example/']) {
    const c = new Client();
    const res = await c.loginForm(username, password, next);
    assert.equal(res.status, 303, JSON.stringify(next));
    assert.equal(res.location, '/', JSON.stringify(next));
  }
  // A line break in next is refused as input: no header comes out of it.
  const c = new Client();
  const crlf = await c.loginForm(username, password, '/x\r\nSet-Cookie: a=b');
  assert.equal(crlf.status, 400);
  assert.ok(!crlf.setCookies.some((x) => x.startsWith('a=')));
  assert.equal(c.cookie('vmm_session'), undefined);
});

test('a wrong password on the login form keeps where the user was going', async () => {
  const { username, password } = await createUser(admin);
  const c = new Client();
  const failed = await c.loginForm(username, 'Not-The-Password-1', '/users');
  assert.equal(failed.status, 401);
  const next = /id="login-form"[\s\S]*?name="next" value="([^"]*)"/.exec(failed.text);
  assert.equal(next?.[1], '/users', 'the form still carries next=/users');
  // Typing the right password in that same form goes on to /users.
  c.pageToken = formToken(failed.text);
  const res = await c.postForm('/login', { username, password, next: next?.[1] ?? '/' });
  assert.equal(res.status, 303);
  assert.equal(res.location, '/users');
});

test('form login failure: the login page again, 401, inline error, name kept, password not', async () => {
  const { username } = await createUser(admin);
  const c = new Client();
  const res = await c.loginForm(username, 'Secret-Typed-1');
  assert.equal(res.status, 401);
  assert.match(res.headers.get('content-type'), /text\/html/);
  assert.ok(elementText(res.text, 'error'), 'inline error shown');
  assert.match(res.text, new RegExp(`id="username"[^>]*value="${username}"`));
  assert.ok(!res.text.includes('Secret-Typed-1'), 'the password is not echoed');
  assert.equal(c.cookie('vmm_session'), undefined);
});

test('form login without the form token or with another token is refused with 403', async () => {
  const { username, password } = await createUser(admin);

  const c = new Client();
  await c.page('/login');
  const missing = await c.request('POST', '/login', { form: { username, password, next: '/' } });
  assert.equal(missing.status, 403);
  assert.equal(c.cookie('vmm_session'), undefined);

  const other = new Client();
  const otherToken = formToken((await other.page('/login')).text);
  const d = new Client();
  const own = formToken((await d.page('/login')).text);
  assert.notEqual(own, otherToken);
  const wrong = await d.request('POST', '/login', {
    form: { username, password, next: '/', csrf_token: otherToken },
  });
  assert.equal(wrong.status, 403);
  assert.equal(d.cookie('vmm_session'), undefined);

  // A client that never loaded the page (no vmm_csrf cookie) cannot log in by form.
  const e = new Client();
  const noCookie = await e.request('POST', '/login', {
    form: { username, password, next: '/', csrf_token: own },
  });
  assert.equal(noCookie.status, 403);
  assert.equal(e.cookie('vmm_session'), undefined);

  // The same user still logs in normally.
  assert.equal((await d.postForm('/login', { username, password, next: '/' })).status, 303);
});

test('logout by form ends the session and goes to /login', async () => {
  const { username, password } = await createUser(admin);
  const c = new Client();
  assert.equal((await c.loginForm(username, password)).status, 303);
  const oldSession = c.cookie('vmm_session');
  const home = await c.page('/');
  assert.equal(home.status, 200);

  const out = await c.postForm('/logout', {});
  assert.equal(out.status, 303);
  assert.equal(out.location, '/login');
  assert.equal(c.cookie('vmm_session'), undefined, 'the session cookie is cleared');

  const again = await c.get('/');
  assert.equal(again.status, 303);
  assert.match(again.location, /^\/login/);

  // The old cookie, replayed, is dead on the server too.
  const replay = new Client();
  replay.cookies.set('vmm_session', oldSession);
  assert.equal((await replay.get('/')).status, 303);
  assertError(await replay.api('GET', '/me'), 401, 'unauthenticated');
});

test('logout by form without the page token does not log out', async () => {
  const { username, password } = await createUser(admin);
  const c = new Client();
  await c.loginForm(username, password);
  const res = await c.request('POST', '/logout', { form: { csrf_token: 'f'.repeat(64) } });
  assert.equal(res.status, 403);
  assert.equal((await c.get('/')).status, 200, 'still logged in');
});

test('the session cookie of a JSON logout no longer works', async () => {
  const { username, password } = await createUser(admin);
  const c = new Client();
  await c.loginOk(username, password);
  const token = c.cookie('vmm_session');
  const csrf = c.csrf;
  assert.equal((await c.logout()).status, 200);

  const replay = new Client();
  replay.cookies.set('vmm_session', token);
  replay.csrf = csrf;
  assertError(await replay.api('GET', '/auth/me'), 401, 'unauthenticated');
  assertError(await replay.api('PATCH', '/me', { display_name: 'ghost' }), 401, 'unauthenticated');
  assert.equal((await replay.get('/')).status, 303);
});

test('API mutations need the session X-CSRF-Token', async () => {
  const { client: c, user } = await userClient(admin);
  const none = await c.api('PATCH', '/me', { display_name: 'no token' }, { csrf: false });
  assertError(none, 403, 'csrf_failed');
  const wrong = await c.api('PATCH', '/me', { display_name: 'wrong token' }, {
    headers: { 'X-CSRF-Token': 'a'.repeat(64) },
  });
  assertError(wrong, 403, 'csrf_failed');
  // The token of another session does not fit either.
  const { client: other } = await userClient(admin);
  const foreign = await c.api('PATCH', '/me', { display_name: 'foreign' }, {
    headers: { 'X-CSRF-Token': other.csrf },
  });
  assertError(foreign, 403, 'csrf_failed');
  assert.equal((await c.api('GET', '/me')).body.data.display_name, user.display_name);

  const ok = await c.api('PATCH', '/me', { display_name: 'with token' });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.data.display_name, 'with token');

  assertError(await c.logout().then(() => c.api('GET', '/me')), 401, 'unauthenticated');
});

test('logout without X-CSRF-Token is refused and the session lives on', async () => {
  const { client: c } = await userClient(admin);
  assertError(await c.api('POST', '/auth/logout', undefined, { csrf: false }), 403, 'csrf_failed');
  assert.equal((await c.api('GET', '/me')).status, 200);
});

test('5 wrong passwords slow this address down: then 429 with Retry-After even with the right password', async () => {
  const { username, password, user } = await createUser(admin);
  const c = new Client();
  for (let i = 1; i <= 5; i++) {
    assertError(await c.login(username, `wrong-password-${i}`), 401, 'invalid_credentials');
  }
  const refused = await c.login(username, password);
  assertError(refused, 429, 'too_many_attempts');
  assert.ok(Number(refused.headers.get('retry-after')) >= 1, 'Retry-After');
  assertError(await c.login(username, 'wrong-again-6'), 429, 'too_many_attempts');
  assert.equal(c.cookie('vmm_session'), undefined);

  const rows = sql(`SELECT success, reason FROM login_history WHERE user_id = ${user.id} ORDER BY id`);
  const reasons = rows.map((r) => r[1]);
  assert.deepEqual(reasons, [...Array(5).fill('bad_password'), 'throttled', 'throttled']);
  assert.ok(rows.every((r) => r[0] === '0'), 'no successful row');
  const byName = sql(`SELECT COUNT(*) FROM login_history WHERE username = ${q(username)}`);
  assert.equal(byName[0][0], '7');
});

test('when the wait is over, the right password works and the count starts again', async () => {
  const { username, password } = await createUser(admin);
  const c = new Client();
  for (let i = 1; i <= 5; i++) await c.login(username, `wrong-password-${i}`);
  assertError(await c.login(username, password), 429, 'too_many_attempts');
  // Fast-forward: the wait ended a second ago.
  sql(`UPDATE login_throttle SET blocked_until = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE username = ${q(username)}`);
  assert.equal((await c.login(username, password)).status, 200);
  assert.equal(sql(`SELECT COUNT(*) FROM login_throttle WHERE username = ${q(username)} AND address <> ''`)[0][0], '0',
    'a right password forgets the address\'s count');
  for (let i = 1; i <= 4; i++) assertError(await c.login(username, `wrong-again-${i}`), 401, 'invalid_credentials');
  assert.equal((await c.login(username, password)).status, 200, 'four wrong passwords after that are free again');
});

test('4 wrong passwords do not slow anyone; a good login starts the count again', async () => {
  const { username, password } = await createUser(admin);
  const c = new Client();
  for (let i = 1; i <= 4; i++) assertError(await c.login(username, `wrong-${i}-pw`), 401, 'invalid_credentials');
  assert.equal((await c.login(username, password)).status, 200);
  const d = new Client();
  for (let i = 1; i <= 4; i++) assertError(await d.login(username, `wrong-${i}-pw`), 401, 'invalid_credentials');
  assert.equal((await d.login(username, password)).status, 200, 'still not slowed');
});

test('a disabled account cannot log in (403 account_disabled)', async () => {
  const { username, password, user } = await createUser(admin);
  const patch = await admin.api('PATCH', `/users/${user.id}`, { enabled: false });
  assert.equal(patch.status, 200);
  const c = new Client();
  assertError(await c.login(username, password), 403, 'account_disabled');
  assert.equal(c.cookie('vmm_session'), undefined);
  const form = await new Client().loginForm(username, password);
  assert.equal(form.status, 403);
  assert.ok(elementText(form.text, 'error'));
  const last = sql(`SELECT success, reason FROM login_history WHERE user_id = ${user.id} ORDER BY id DESC LIMIT 1`);
  assert.deepEqual(last, [['0', 'disabled']]);
});

function assertSecurityHeaders(res, what) {
  const h = res.headers;
  assert.ok(h.get('content-security-policy'), `${what}: CSP`);
  assert.match(h.get('content-security-policy'), /default-src 'self'/, `${what}: CSP default-src`);
  assert.match(h.get('content-security-policy'), /frame-ancestors 'none'/, `${what}: CSP frame-ancestors`);
  assert.equal(h.get('x-content-type-options'), 'nosniff', `${what}: nosniff`);
  assert.equal(h.get('x-frame-options'), 'DENY', `${what}: X-Frame-Options`);
  assert.ok(h.get('referrer-policy'), `${what}: Referrer-Policy`);
}

test('every answer carries the security headers', async () => {
  const anon = new Client();
  const cases = [
    ['login page', await anon.get('/login')],
    ['redirect', await anon.get('/')],
    ['anonymous API', await anon.api('GET', '/me')],
    ['failed login', await anon.login('nobody-here', 'nothing-pw')],
    ['dashboard', await admin.get('/')],
    ['users page', await admin.get('/users')],
    ['API list', await admin.api('GET', '/users')],
    ['404 page', await anon.get('/no/such/page')],
    ['404 API', await anon.api('GET', '/no/such')],
  ];
  for (const [what, res] of cases) {
    assert.ok(res.status < 500, `${what}: ${res.status}`);
    assertSecurityHeaders(res, what);
  }
});

test('UTF-8: a Chinese display name round-trips through PATCH /me and shows on the dashboard', async () => {
  const { client: c, user } = await userClient(admin);
  const name = '测试服务器';
  const res = await c.api('PATCH', '/me', { display_name: name });
  assert.equal(res.status, 200);
  assert.equal(res.body.data.display_name, name);
  assert.equal((await c.api('GET', '/me')).body.data.display_name, name);
  assert.equal((await admin.api('GET', `/users/${user.id}`)).body.data.display_name, name);
  const home = await c.get('/');
  assert.equal(home.status, 200);
  assert.match(home.headers.get('content-type'), /charset=utf-8/i);
  assert.equal(elementText(home.text, 'me'), name);
  assert.ok(home.text.includes(`<dd>${name}</dd>`), 'shown in the account card');
});

test('PATCH /me changes email and rejects a bad one', async () => {
  const { client: c } = await userClient(admin);
  const ok = await c.api('PATCH', '/me', { email: 'someone@example.org' });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.data.email, 'someone@example.org');
  assertError(await c.api('PATCH', '/me', { email: 'not an address' }), 400, 'invalid_email');
  assertError(await c.api('PATCH', '/me', { language: 'fr' }), 400, 'invalid_choice');
  assert.equal((await c.api('GET', '/me')).body.data.email, 'someone@example.org');
});

function assertChinese(html, what) {
  assert.match(html, /<html lang="zh-CN">/, `${what}: html lang`);
}
function assertEnglish(html, what) {
  assert.match(html, /<html lang="en">/, `${what}: html lang`);
}

test('Accept-Language: zh-CN picks Chinese pages, en English', async () => {
  const zh = new Client('zh', { headers: { 'Accept-Language': 'zh-CN,zh;q=0.9,en;q=0.5' } });
  const page = await zh.get('/login');
  assertChinese(page.text, 'login');
  assert.match(page.text, />登录<\/button>/);

  const en = new Client('en', { headers: { 'Accept-Language': 'en-US,en;q=0.9' } });
  const enPage = await en.get('/login');
  assertEnglish(enPage.text, 'login');
  assert.match(enPage.text, />Log in<\/button>/);

  // Error messages of the API follow it too.
  const msg = await zh.login('nobody-here', 'nothing-pw');
  assert.equal(msg.status, 401);
  assert.notEqual(msg.body.error.message, (await en.login('nobody-here', 'nothing-pw')).body.error.message);
});

test('language switch by form: anonymous cookie, then the choice sticks to the account', async () => {
  const { username, password } = await createUser(admin);
  const c = new Client('switch', { headers: { 'Accept-Language': 'en' } });
  await c.page('/login');
  const sw = await c.postForm('/language', { language: 'zh-CN', next: '/login' });
  assert.equal(sw.status, 303);
  assert.equal(sw.location, '/login');
  assert.equal(c.cookie('vmm_lang'), 'zh-CN');
  const zhLogin = await c.page('/login');
  assertChinese(zhLogin.text, 'login after switch');
  assert.match(zhLogin.text, />登录<\/button>/);
  assert.match(zhLogin.text, /value="en"[^>]*>English</, 'the switch offers English now');

  assert.equal((await c.postForm('/login', { username, password, next: '/' })).status, 303);
  const home = await c.page('/');
  assertChinese(home.text, 'dashboard');
  assert.match(home.text, /<a href="\/">仪表盘<\/a>/);

  // Logged in, the switch back to English is saved on the account.
  const back = await c.postForm('/language', { language: 'en', next: '/' });
  assert.equal(back.status, 303);
  assert.equal(back.location, '/');
  const enHome = await c.get('/');
  assertEnglish(enHome.text, 'dashboard after switching back');
  assert.match(enHome.text, /<a href="\/">Dashboard<\/a>/);
  assert.equal((await c.api('GET', '/me')).body.data.language, 'en');

  // A switch to Chinese while logged in follows the user to another browser.
  await c.page('/');
  assert.equal((await c.postForm('/language', { language: 'zh-CN', next: '/' })).status, 303);
  const other = new Client('other', { headers: { 'Accept-Language': 'en' } });
  await other.loginOk(username, password);
  assertChinese((await other.get('/')).text, 'dashboard in another browser');
});

test('language switch without the form token is refused', async () => {
  const c = new Client('nocsrf', { headers: { 'Accept-Language': 'en' } });
  await c.page('/login');
  const res = await c.request('POST', '/language', { form: { language: 'zh-CN', next: '/login' } });
  assert.equal(res.status, 403);
  assert.equal(c.cookie('vmm_lang'), undefined);
});

test('PATCH /me language zh-CN makes the dashboard Chinese, "" goes back to the browser', async () => {
  const { client: c } = await userClient(admin);
  c.headers = { 'Accept-Language': 'en' };
  assertEnglish((await c.get('/')).text, 'before');
  const res = await c.api('PATCH', '/me', { language: 'zh-CN' });
  assert.equal(res.status, 200);
  assert.equal(res.body.data.language, 'zh-CN');
  const home = await c.get('/');
  assertChinese(home.text, 'after PATCH');
  assert.match(home.text, /仪表盘/);
  assert.match(home.text, /退出登录/);

  assert.equal((await c.api('PATCH', '/me', { language: '' })).status, 200);
  assertEnglish((await c.get('/')).text, 'language ""');
});
