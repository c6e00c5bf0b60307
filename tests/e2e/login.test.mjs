// In a real browser: log in as admin, see the dashboard, switch to Chinese
// with the header button, log out. Screenshots go to $VMM_TEST_OUTPUT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_PASSWORD, ADMIN_USER, BASE, Client, launchBrowser } from '../integration/lib.mjs';

const OUT = process.env.VMM_TEST_OUTPUT || new URL('../../test-output', import.meta.url).pathname;
const TIMEOUT = 15000;

let browser;
let adminLanguage; // the admin's own setting, put back afterwards

before(async () => {
  mkdirSync(OUT, { recursive: true });
  const api = new Client('e2e-setup');
  adminLanguage = (await api.loginOk(ADMIN_USER, ADMIN_PASSWORD)).language;
  await api.logout();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  // Switching the language while logged in saved it on the admin account:
  // give the admin back the setting it had.
  if (adminLanguage !== undefined) {
    const api = new Client('e2e-teardown');
    await api.loginOk(ADMIN_USER, ADMIN_PASSWORD);
    const res = await api.api('PATCH', '/me', { language: adminLanguage });
    assert.equal(res.status, 200);
    await api.logout();
  }
});

test('log in, see the dashboard, switch to Chinese, log out', async () => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // Browsers ask for /favicon.ico by themselves; the site has none (a 404 page).
  const ours = (url) => !url.endsWith('/favicon.ico');
  page.on('console', (m) => {
    if (m.type() === 'error' && ours(m.location().url || '')) problems.push(`console: ${m.text()} ${m.location().url}`);
  });
  page.on('response', (r) => { if (r.status() >= 400 && ours(r.url())) problems.push(`${r.status()} ${r.url()}`); });

  try {
    await page.goto(`${BASE}/login`);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await page.fill('#username', ADMIN_USER);
    await page.fill('#password', ADMIN_PASSWORD);
    await Promise.all([
      page.waitForURL(`${BASE}/`),
      page.click('#login-form button[type=submit]'),
    ]);

    assert.equal((await page.textContent('#username')).trim(), ADMIN_USER);
    assert.ok(await page.isVisible('#me'), 'the user is shown in the header');
    assert.ok(await page.isVisible('#logout'), 'a log out button');
    assert.equal((await page.textContent('h1')).trim(), 'Dashboard');
    assert.ok(await page.isVisible('nav.nav >> text=Users'), 'admins see the Users link');
    // The stylesheet is loaded (CSP allows our own CSS): the header is dark.
    const topbarColor = await page.$eval('.topbar', (e) => getComputedStyle(e).backgroundColor);
    assert.equal(topbarColor, 'rgb(20, 33, 61)');
    await page.screenshot({ path: join(OUT, 'e2e-dashboard.png'), fullPage: true });

    await Promise.all([
      page.waitForURL(`${BASE}/`),
      page.click('.topbar button[name=language][value="zh-CN"]'),
    ]);
    await page.waitForSelector('html[lang="zh-CN"]');
    assert.equal((await page.textContent('h1')).trim(), '仪表盘');
    assert.ok(await page.isVisible('nav.nav >> text=仪表盘'), 'the nav is Chinese');
    assert.equal((await page.textContent('#logout')).trim(), '退出登录');
    assert.equal((await page.textContent('#username')).trim(), ADMIN_USER);
    assert.ok(await page.isVisible('.topbar button[name=language][value="en"]'), 'the switch now offers English');
    await page.screenshot({ path: join(OUT, 'e2e-dashboard-zh.png'), fullPage: true });

    await Promise.all([
      page.waitForURL(`${BASE}/login`),
      page.click('#logout'),
    ]);
    assert.ok(await page.isVisible('#login-form'), 'back at the login form');
    assert.equal(await page.isVisible('#logout'), false, 'no log out button any more');
    assert.equal((await page.textContent('#login-form button[type=submit]')).trim(), '登录', 'still Chinese');
    await page.screenshot({ path: join(OUT, 'e2e-logged-out.png'), fullPage: true });

    // The dashboard is closed again.
    await page.goto(`${BASE}/`);
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('a wrong password in the browser shows an error on the login page', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  try {
    await page.goto(`${BASE}/login`);
    // A fresh name: the admin's failed-login count is not touched.
    await page.fill('#username', `nobody_${Date.now()}`);
    await page.fill('#password', 'not-a-password');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${BASE}/login` && r.request().method() === 'POST'),
      page.click('#login-form button[type=submit]'),
    ]);
    await page.waitForLoadState('load');
    await page.screenshot({ path: join(OUT, 'e2e-login-error.png'), fullPage: true });
    assert.equal(response.status(), 401, `the form answer (Location: ${response.headers().location ?? '-'})`);
    assert.ok(await page.isVisible('#error'), 'an error message on the page');
    assert.ok((await page.textContent('#error')).trim().length > 0);
    assert.equal(await page.inputValue('#password'), '', 'the password is not kept');
  } finally {
    await context.close();
  }
});
