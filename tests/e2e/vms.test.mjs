// In a real browser, as a normal user: create a VM from the demo template
// through the form, see it running on its page, shut it down, delete it.
// Screenshots go to $VMM_TEST_OUTPUT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BASE, adminClient, createUser, launchBrowser, loggedInPage, sql } from '../integration/lib.mjs';

const OUT = process.env.VMM_TEST_OUTPUT || new URL('../../test-output', import.meta.url).pathname;
const TIMEOUT = 60000;

let browser;
let user;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  user = await createUser(await adminClient());
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

test('create a VM through the form, see it run, shut it down, delete it', async () => {
  const { context, page } = await loggedInPage(browser, user.username, user.password,
    { locale: 'zh-CN', timeout: TIMEOUT });
  try {

    await page.click('a[href="/vms"]');
    await page.click('#new-vm');
    await page.fill('#name', '网页服务器');
    await page.selectOption('#template_id', { label: 'Demo (busybox) (Debian kernel + busybox, x86_64)' });
    await Promise.all([page.waitForURL(/\/vms\/\d+$/), page.click('#new-vm-form button[type=submit]')]);

    assert.equal(await page.textContent('h1'), '网页服务器');
    // Made in the helper's job: the page refreshes itself until it is.
    await page.waitForSelector('#state[data-state="running"]');
    assert.equal((await page.textContent('#state .state')).trim(), '运行中');
    await page.screenshot({ path: join(OUT, 'e2e-vm-running.png'), fullPage: true });

    // Force off (the guest may still be booting), then the state says so.
    await Promise.all([page.waitForURL(/\/vms\/\d+$/), page.click('#force-stop')]);
    assert.equal(await page.getAttribute('#state', 'data-state'), 'stopped');

    // Deleting it with its disk takes its name typed out.
    assert.equal(await page.isDisabled('#delete-vm button[type=submit]'), true);
    await page.fill('#confirm-name', '网页服务器');
    await Promise.all([page.waitForURL(`${BASE}/vms`), page.click('#delete-vm button[type=submit]')]);
    assert.match(await page.textContent('#flash'), /虚拟机已删除/);
    assert.match(await page.textContent('#vms'), /还没有虚拟机/);
    await page.screenshot({ path: join(OUT, 'e2e-vms-empty.png'), fullPage: true });
  } finally {
    await context.close();
    // Whatever a failure left behind is removed by the portal's owner.
    const left = sql(`SELECT id FROM vms WHERE owner_id = ${user.user.id}`);
    if (left.length) {
      const admin = await adminClient();
      for (const [id] of left) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
    }
  }
});
