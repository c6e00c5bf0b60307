// In a real browser, as a normal user, in Chinese: the install wizard
// (issue 18). Choose the demo installer ISO and kickstart, give the
// settings (a bad host name comes back to its step with the message),
// review the ks.cfg the installer will get, create; the VM page then
// shows it installing, and running from its disk once the installer
// powered off. Screenshots go to $VMM_TEST_OUTPUT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, adminClient, createUser, launchBrowser, sql, loginInBrowser } from '../integration/lib.mjs';

const OUT = process.env.VMM_TEST_OUTPUT || new URL('../../test-output', import.meta.url).pathname;
const TIMEOUT = 60000;
const INSTALL_DEADLINE_MS = 300_000;

let browser;
let user;
let admin;
let work;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  admin = await adminClient();
  user = await createUser(admin);
  sql(`INSERT INTO quotas (user_id, max_vms, max_vcpus, max_memory_mb, max_disk_gb) VALUES (${user.user.id}, 5, 5, 4096, 20)`);
  browser = await launchBrowser();
  work = mkdtempSync(join(tmpdir(), 'vmm-wizard-'));
});

after(async () => {
  await browser?.close();
  for (const [id] of sql(`SELECT id FROM vms WHERE owner_id = ${user.user.id}`)) {
    await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the install wizard: ISO and kickstart, settings, review, create, progress', async () => {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '运维 "ops"', '-f', join(work, 'k')]);
  const key = readFileSync(join(work, 'k.pub'), 'utf8').trim();
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  try {
    await loginInBrowser(page, user.username, user.password);
    await page.goto(`${BASE}/vms/new`);
    await page.click('#install-wizard');
    assert.equal(await page.textContent('h1'), '安装向导');
    assert.match(await page.textContent('#wizard-steps .current'), /ISO 与自动化/);
    await page.fill('#name', '自动安装');
    const [[isoId]] = sql("SELECT id FROM isos WHERE name = 'Demo installer'");
    await page.selectOption('#iso_id', isoId);
    await page.check('#install-type-kickstart');
    await page.fill('#memory_mb', '256');
    await page.fill('#disk_gb', '1');
    await page.screenshot({ path: join(OUT, 'e2e-wizard-1.png'), fullPage: true });
    await page.click('#wizard-form button[type=submit]');

    // Settings; a host name the installers would refuse comes back here.
    assert.match(await page.textContent('#wizard-steps .current'), /安装设置/);
    await page.fill('#hostname', 'bad_host!');
    await page.fill('#user', 'ops');
    await page.click('#wizard-form button[type=submit]');
    assert.match(await page.textContent('#error'), /主机名/);
    assert.match(await page.textContent('#wizard-steps .current'), /安装设置/);
    await page.fill('#hostname', 'ks-web');
    await page.fill('#user', 'ops');
    await page.fill('#password', 'pä$$ "w"');
    await page.fill('#ssh_keys', key);
    await page.fill('#packages', 'curl vim');
    await page.screenshot({ path: join(OUT, 'e2e-wizard-2.png'), fullPage: true });
    await page.click('#wizard-form button[type=submit]');

    // Review: what was chosen, and the ks.cfg itself.
    assert.match(await page.textContent('#wizard-steps .current'), /确认/);
    assert.equal((await page.textContent('#review-hostname')).trim(), 'ks-web');
    const ks = await page.textContent('#rendered');
    assert.match(ks, /^network --bootproto=dhcp --hostname='ks-web' --activate$/m, 'one command a line');
    assert.match(ks, /^user --name=ops --groups=wheel --iscrypted --password='\$6\$/m);
    assert.ok(ks.includes(`sshkey --username=ops '${key.replace(/'/g, "'\\''")}'`), ks);
    assert.ok(!ks.includes('pä$$'), 'only the hash');
    await page.screenshot({ path: join(OUT, 'e2e-wizard-3.png'), fullPage: true });
    await Promise.all([page.waitForURL(/\/vms\/\d+$/), page.click('#wizard-form button[type=submit]')]);

    // The VM's page is its progress: installing, then running from disk.
    assert.equal(await page.textContent('h1'), '自动安装');
    await page.waitForSelector('#state[data-state="installing"]');
    await page.screenshot({ path: join(OUT, 'e2e-wizard-installing.png'), fullPage: true });
    const id = Number(page.url().match(/\/vms\/(\d+)$/)[1]);
    const deadline = Date.now() + INSTALL_DEADLINE_MS;
    while (await page.getAttribute('#state', 'data-state') !== 'running') {
      assert.ok(Date.now() < deadline, 'the install ended and the VM started from its disk');
      await page.waitForTimeout(2000);
      await page.reload();
    }
    const [[kind, state]] = sql(`SELECT kind, state FROM jobs WHERE vm_id = ${id} AND kind = 'vm.install'`);
    assert.deepEqual([kind, state], ['vm.install', 'succeeded']);
    await page.screenshot({ path: join(OUT, 'e2e-wizard-installed.png'), fullPage: true });
  } finally {
    await context.close();
  }
});
