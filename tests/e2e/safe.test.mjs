// Safe to click (issue 15), in a real browser: deleting asks first and
// names what will be lost; a VM with its disk takes its name typed out
// (checked by the server too); a user is deleted from their row; after an
// action a short message says what happened.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ADMIN_PASSWORD, ADMIN_USER, BASE, adminClient, createUser, deleteVmsOf, demoVmDone, launchBrowser,
  loggedInPage, sql, userClient,
} from '../integration/lib.mjs';

const OUT = process.env.VMM_TEST_OUTPUT || new URL('../../test-output', import.meta.url).pathname;

let browser;
let admin;
let user;
let api;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  admin = await adminClient();
  user = await userClient(admin);
  api = user.client;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await deleteVmsOf(user.user.id);
});

test('a VM with its disk is deleted only once its name is typed', async () => {
  const vm = await demoVmDone(api, { name: 'keep-me' });
  // The server checks the name even when no script does.
  await api.page(`/vms/${vm.id}`);
  const refused = await api.postForm(`/vms/${vm.id}/delete`, { delete_disks: 'true', confirm_name: 'keep' });
  assert.equal(refused.status, 422);
  assert.match(refused.text, /Type the machine&#39;s name exactly|Type the machine's name exactly/);
  assert.equal(sql(`SELECT COUNT(*) FROM vms WHERE id = ${vm.id}`)[0][0], '1');

  const { context, page } = await loggedInPage(browser, user.username, user.password);
  try {
    await page.goto(`${BASE}/vms/${vm.id}`);
    const button = '#delete-vm button[type=submit]';
    assert.equal(await page.isDisabled(button), true);
    await page.fill('#confirm-name', 'keep-m');
    assert.equal(await page.isDisabled(button), true);
    await page.fill('#confirm-name', 'keep-me');
    assert.equal(await page.isDisabled(button), false);
    await page.screenshot({ path: join(OUT, 'e2e-vm-delete-confirm.png'), fullPage: true });
    await Promise.all([page.waitForURL(`${BASE}/vms`), page.click(button)]);
    assert.equal((await page.textContent('#flash')).trim(), 'The virtual machine was deleted.');
    assert.equal(sql(`SELECT COUNT(*) FROM vms WHERE id = ${vm.id}`)[0][0], '0');
    // The message is said once.
    await page.reload();
    assert.equal(await page.locator('#flash').count(), 0);
  } finally {
    await context.close();
  }
});

test('a VM action says what happened', async () => {
  const vm = await demoVmDone(api, { name: 'flash-me' });
  const { context, page } = await loggedInPage(browser, user.username, user.password, { locale: 'zh-CN' });
  try {
    await page.goto(`${BASE}/vms/${vm.id}`);
    await Promise.all([page.waitForURL(`${BASE}/vms/${vm.id}`), page.click('#start')]);
    assert.equal((await page.textContent('#flash')).trim(), '虚拟机已启动。');
    await Promise.all([page.waitForURL(`${BASE}/vms/${vm.id}`), page.click('#force-stop')]);
    assert.ok((await page.textContent('#flash')).trim().length > 0);
  } finally {
    await context.close();
  }
});

test('an admin deletes a user from their row after a question naming them', async () => {
  const doomed = await createUser(admin, { prefix: 'doomed' });
  const owner = await createUser(admin, { prefix: 'owner' });
  sql(`INSERT INTO vms (uuid, domain_name, name, description, owner_id, state, vcpus, memory_mb, disk_gb)
       VALUES (UUID(), CONCAT('vmm-safe-', LEFT(UUID(), 8)), 'owned', '', ${owner.user.id}, 'stopped', 1, 128, 1)`);
  const { context, page } = await loggedInPage(browser, ADMIN_USER, ADMIN_PASSWORD);
  try {
    await page.goto(`${BASE}/users?q=${doomed.username}`);
    const questions = [];
    page.once('dialog', (d) => { questions.push(d.message()); d.dismiss(); });
    await page.click(`#delete-user-${doomed.user.id}`);
    assert.match(questions[0], new RegExp(`Delete the user “${doomed.username}”\\?`));
    assert.equal(sql(`SELECT COUNT(*) FROM users WHERE id = ${doomed.user.id}`)[0][0], '1');

    page.once('dialog', (d) => d.accept());
    await Promise.all([page.waitForURL(/\/users/), page.click(`#delete-user-${doomed.user.id}`)]);
    assert.equal((await page.textContent('#flash')).trim(), 'The user was deleted.');
    assert.equal(sql(`SELECT COUNT(*) FROM users WHERE id = ${doomed.user.id}`)[0][0], '0');

    // One who owns VMs is sent to their page, where a menu names who takes them.
    await page.goto(`${BASE}/users?q=${owner.username}`);
    assert.equal(await page.locator(`#delete-user-${owner.user.id}`).count(), 0);
    await page.click(`a[href="/users/${owner.user.id}#delete-user"]`);
    assert.ok(await page.locator(`#reassign_to option:text("${ADMIN_USER}")`).count() === 1);
  } finally {
    await context.close();
    sql(`DELETE FROM vms WHERE owner_id = ${owner.user.id}`);
  }
});

test('revoking a token asks first, naming it', async () => {
  const created = await api.api('POST', '/me/tokens', { name: 'deploy-bot' });
  assert.equal(created.status, 201, created.text);
  const { context, page } = await loggedInPage(browser, user.username, user.password);
  try {
    await page.goto(`${BASE}/profile`);
    let question = '';
    page.once('dialog', (d) => { question = d.message(); d.dismiss(); });
    await page.click('form[action$="/revoke"] button');
    assert.match(question, /Revoke the token “deploy-bot”\?/);
    page.once('dialog', (d) => d.accept());
    await Promise.all([page.waitForURL(/\/profile/), page.click('form[action$="/revoke"] button')]);
    assert.equal((await page.textContent('#flash')).trim(), 'The token was revoked.');
  } finally {
    await context.close();
  }
});
