// A VM's graphics in a real browser (issue 20), as a normal user and in
// Chinese: a stopped VM is switched to SPICE on its page, started, its
// "Download .vv" link gives a virt-viewer file with a one-time password
// (the one the running domain has now), and it is switched back to VNC.
// Screenshots go to $VMM_TEST_OUTPUT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BASE, adminClient, deleteVmsOf, demoVmDone, domainOf, launchBrowser, loggedInPage, userClient, virsh,
} from '../integration/lib.mjs';

const OUT = process.env.VMM_TEST_OUTPUT || new URL('../../test-output', import.meta.url).pathname;
const TIMEOUT = 60000;

let browser;
let user;
let api;
let vm;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  user = await userClient(await adminClient());
  api = user.client;
  vm = await demoVmDone(api, { name: '图形测试', memory_mb: 256 });
  assert.equal(vm.state, 'stopped');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await deleteVmsOf(user.user.id);
});

/** The running domain's SPICE graphics element, with its password. */
function liveSpice() {
  const xml = virsh('dumpxml', '--security-info', domainOf(vm.id));
  return /<graphics type='spice'[^>]*>/.exec(xml)?.[0] || '';
}

test('a stopped VM switched to SPICE on its page gives a .vv with a one-time password, and back to VNC', async () => {
  const { context, page } = await loggedInPage(browser, user.username, user.password,
    { locale: 'zh-CN', acceptDownloads: true, timeout: TIMEOUT });
  try {
    await page.goto(`${BASE}/vms/${vm.id}`);
    assert.equal((await page.textContent('#vm-graphics h2')).trim(), '图形显示');
    assert.equal(await page.getAttribute('#graphics-now', 'data-graphics'), 'vnc');
    assert.match(await page.textContent('#graphics-now'), /浏览器/);
    assert.equal(await page.locator('#download-vv').count(), 0, 'a VNC VM has no .vv link');
    assert.deepEqual(await page.locator('#graphics option').allTextContents(), ['VNC（浏览器控制台）', 'SPICE（remote-viewer）']);

    // SPICE, chosen on the page while the VM is stopped.
    await page.selectOption('#graphics', 'spice');
    await Promise.all([page.waitForURL(`${BASE}/vms/${vm.id}#vm-graphics`), page.click('#graphics-save')]);
    assert.match(await page.textContent('#flash'), /已保存/);
    assert.equal(await page.getAttribute('#graphics-now', 'data-graphics'), 'spice');
    assert.equal(await page.inputValue('#graphics'), 'spice');
    assert.match(await page.textContent('#vv-hint'), /启动虚拟机后/);
    assert.equal((await api.api('GET', `/vms/${vm.id}`)).body.data.graphics, 'spice');
    assert.match(virsh('dumpxml', '--inactive', domainOf(vm.id)), /<graphics type='spice'/);

    // Started, it has the link (and no browser console, which is VNC's).
    await Promise.all([page.waitForURL(/\/vms\/\d+$/), page.click('#start')]);
    await page.waitForSelector('#state[data-state="running"]');
    await page.waitForSelector('#download-vv');
    assert.equal((await page.textContent('#download-vv')).trim(), '下载 .vv 文件（remote-viewer）');
    assert.equal(await page.locator('#open-console').count(), 0);
    assert.equal(await page.locator('#graphics-form').count(), 0, 'graphics change only while stopped');
    await page.screenshot({ path: join(OUT, 'e2e-graphics-spice.png'), fullPage: true });

    const download = async () => {
      const [file] = await Promise.all([page.waitForEvent('download'), page.click('#download-vv')]);
      assert.equal(file.suggestedFilename(), `vm-${vm.id}.vv`);
      return Object.fromEntries(readFileSync(await file.path(), 'utf8').split('\n')
        .filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    };
    const vv = await download();
    assert.equal(vv.type, 'spice');
    assert.equal(vv.host, '127.0.0.1');
    assert.ok(Number(vv.port) > 0, `port ${vv.port}`);
    assert.equal(vv.title, '图形测试');
    assert.match(vv.password, /^[A-Za-z0-9]{24}$/);
    // It is the running domain's password now, with an expiry: one-time.
    const graphics = liveSpice();
    assert.ok(graphics.includes(`passwd='${vv.password}'`), graphics);
    assert.match(graphics, /passwdValidTo='\d{4}-\d\d-\d\dT/);
    const again = await download();
    assert.notEqual(again.password, vv.password, 'each download has its own password');
    assert.ok(liveSpice().includes(`passwd='${again.password}'`));

    // Off, and back to VNC.
    await Promise.all([page.waitForURL(/\/vms\/\d+$/), page.click('#force-stop')]);
    await page.waitForSelector('#state[data-state="stopped"]');
    await page.selectOption('#graphics', 'vnc');
    await Promise.all([page.waitForURL(`${BASE}/vms/${vm.id}#vm-graphics`), page.click('#graphics-save')]);
    assert.equal(await page.getAttribute('#graphics-now', 'data-graphics'), 'vnc');
    assert.equal(await page.locator('#download-vv').count(), 0);
    assert.equal((await api.api('GET', `/vms/${vm.id}`)).body.data.graphics, 'vnc');
    const inactive = virsh('dumpxml', '--inactive', domainOf(vm.id));
    assert.match(inactive, /<graphics type='vnc'/);
    assert.doesNotMatch(inactive, /type='spice'/);
    await page.screenshot({ path: join(OUT, 'e2e-graphics-vnc.png'), fullPage: true });
  } finally {
    await context.close();
  }
});
