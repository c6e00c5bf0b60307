// In a real browser: a user uploads a picture on the profile page (and is
// told why an HTML file is refused), makes an API token that is shown
// once, and finds both in their audit log. Screenshots go to $VMM_TEST_OUTPUT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { BASE, Client, adminClient, createUser, launchBrowser, loginInBrowser } from '../integration/lib.mjs';

const OUT = process.env.VMM_TEST_OUTPUT || new URL('../../test-output', import.meta.url).pathname;
const TIMEOUT = 15000;

/** A w x h PNG of one colour. */
function png(w, h) {
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
  ihdr[8] = 8;
  ihdr[9] = 2;
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: w }, () => [30, 120, 200]).flat())]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(Array.from({ length: h }, () => row)))), chunk('IEND', Buffer.alloc(0)),
  ]);
}

let browser;
let account;
before(async () => {
  mkdirSync(OUT, { recursive: true });
  const admin = await adminClient();
  account = await createUser(admin, { display_name: '测试 Profile' });
  await admin.logout();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test('picture, API token and audit log from the profile page', async () => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  try {
    await loginInBrowser(page, account.username, account.password);
    await Promise.all([page.waitForURL(`${BASE}/profile`), page.click('#me')]);
    assert.equal(await page.inputValue('#display_name'), '测试 Profile');

    // An HTML file with a .png name is refused, with the reason shown.
    await page.setInputFiles('#avatar-file', { name: 'evil.png', mimeType: 'image/png', buffer: Buffer.from('<html><script>alert(1)</script></html>') });
    await page.click('#avatar-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#avatar-status').textContent.length > 0);
    assert.match(await page.textContent('#avatar-status'), /PNG or JPEG/);

    // A real picture is kept and shown.
    await page.setInputFiles('#avatar-file', { name: 'me.png', mimeType: 'image/png', buffer: png(96, 96) });
    await Promise.all([page.waitForLoadState('load'), page.click('#avatar-form button[type=submit]')]);
    await page.waitForSelector('#avatar');
    await page.waitForFunction(() => document.querySelector('#avatar').naturalWidth === 96);

    // A token is shown once, and works.
    await page.fill('#new-token input[name=name]', 'browser token');
    await Promise.all([page.waitForURL(`${BASE}/profile/tokens`), page.click('#new-token button[type=submit]')]);
    const secret = (await page.textContent('#token-secret')).trim();
    assert.match(secret, /^vmm_[0-9a-f]{64}$/);
    const me = await new Client('bearer', { headers: { Authorization: `Bearer ${secret}` } }).api('GET', '/me');
    assert.equal(me.body.data.username, account.username);
    await page.screenshot({ path: join(OUT, 'profile-token.png'), fullPage: true });

    // The audit log lists both, and only this user's rows.
    await page.goto(`${BASE}/audit-logs`);
    const text = await page.textContent('#audit');
    // In words (issue 15), not the codes api_token.create and user.avatar.
    assert.match(text, /created API token /);
    assert.match(text, /changed their picture/);
    assert.doesNotMatch(text, /api_token\.create|user\.avatar/);
    assert.doesNotMatch(text, /created user /, 'the admin creating this user is not in their log');
    await page.screenshot({ path: join(OUT, 'audit-log.png'), fullPage: true });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
