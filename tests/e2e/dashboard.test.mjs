// The dashboard (issue 15), in a real browser: VM counts by state linked to
// the filtered list, quota bars, this host's use, recent tasks and
// failures, and for admins the portal's counts. Screenshots in both
// languages and at 400 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ADMIN_PASSWORD, ADMIN_USER, BASE, adminClient, deleteVmsOf, demoVmDone, launchBrowser, loggedInPage, sql,
  userClient,
} from '../integration/lib.mjs';

const OUT = process.env.VMM_TEST_OUTPUT || new URL('../../test-output', import.meta.url).pathname;

let browser;
let user;
let vm;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  user = await userClient(await adminClient());
  vm = await demoVmDone(user.client, { name: 'dash-one' });   // stopped
  sql(`INSERT INTO jobs (kind, state, owner_id, message, finished_at, target_type, target_id, target_name)
       VALUES ('iso.verify', 'failed', ${user.user.id}, 'The ISO is gone.', UTC_TIMESTAMP(), 'iso', 999998, 'lost.iso')`);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (user) await deleteVmsOf(user.user.id);
});

test("a user's dashboard: VMs by state, quota, host, tasks and failures", async () => {
  const { context, page } = await loggedInPage(browser, user.username, user.password,
    { locale: 'en-US', viewport: { width: 1366, height: 900 } });
  try {
    const stopped = page.locator('#vm-states a[data-state="stopped"]');
    assert.match(await stopped.textContent(), /Stopped\s*1/);
    assert.match(await page.textContent('#vm-states a[data-state="running"]'), /Running\s*0/);
    // The default quota allows 10 VMs: one is 10 %.
    assert.equal(await page.getAttribute('#quota meter[aria-label="Virtual machines"]', 'value'), '10');
    assert.ok(Number(await page.getAttribute('#host-use meter[aria-label="Memory"]', 'value')) > 0);
    assert.match(await page.textContent('#failures'), /Verify ISO image lost\.iso: The ISO is gone\./);
    assert.match(await page.textContent('#recent-jobs'), /Verify ISO image/);
    assert.equal(await page.locator('#totals').count(), 0);
    await page.screenshot({ path: join(OUT, 'e2e-dashboard-user.png'), fullPage: true });

    await Promise.all([page.waitForURL(`${BASE}/vms?state=stopped`), stopped.click()]);
    assert.equal(await page.inputValue('#vm-state'), 'stopped');
    assert.equal(await page.locator(`#vms tr[data-id="${vm.id}"]`).count(), 1);

    await page.setViewportSize({ width: 400, height: 800 });
    await page.goto(`${BASE}/`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the dashboard is ${overflow} px too wide at 400 px`);
    await page.screenshot({ path: join(OUT, 'e2e-dashboard-400.png'), fullPage: true });
  } finally {
    await context.close();
  }
});

test("an admin's dashboard counts users, ISOs and templates, in Chinese", async () => {
  const { context, page } = await loggedInPage(browser, ADMIN_USER, ADMIN_PASSWORD,
    { locale: 'zh-CN', viewport: { width: 1366, height: 900 } });
  try {
    const templates = Number(sql('SELECT COUNT(*) FROM templates')[0][0]);
    assert.equal(Number(await page.textContent('#templates-count')), templates);
    assert.ok(Number(await page.textContent('#users-count')) >= 2);
    assert.match(await page.textContent('#host-use h2'), /主机/);
    // Issue 19: each host's use, as the database has it.
    const [[vms, running]] = sql("SELECT COUNT(*), COALESCE(SUM(state IN ('running', 'paused')), 0) FROM vms WHERE host_id = 1");
    assert.equal((await page.textContent('#host-use-1 .host-vms')).trim(), `${vms} (${running})`);
    assert.match(await page.textContent('#hosts-use thead'), /运行中内存/);
    await page.screenshot({ path: join(OUT, 'e2e-dashboard-admin-zh.png'), fullPage: true });
  } finally {
    await context.close();
  }
});
