// SPICE graphics (issue 20): a VM made with graphics "spice" runs with
// SPICE on 127.0.0.1; GET /vms/{id}/console/spice downloads a virt-viewer
// file with a one-time password the helper sets on the running domain with
// an expiry (passwdValidTo), as Proxmox does. A real SPICE client
// (spice-gtk's GLib library, headless: tests/integration/spice-connect.py)
// connects with it and is refused with anything else. The console's
// settings change while the VM is stopped (PATCH /vms/{id}, and the guide's
// PUT /vms/{id}/console/vnc/config).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  adminClient, apiTokenOf, assertError, BASE, Client, createVmDone, dataOf, sql, userClient, waitFor,
} from './lib.mjs';

const CONNECT = new URL('./spice-connect.py', import.meta.url).pathname;
let admin;
let a;
let b;
let vm;
let domain;
const cleanup = [];

const virsh = (...args) => execFileSync('virsh', ['-c', 'qemu:///system', ...args], { encoding: 'utf8' });
/** The INI keys of a .vv file's [virt-viewer] group. */
function parseVv(text) {
  const lines = text.split('\n').filter((l) => l !== '');
  assert.equal(lines[0], '[virt-viewer]');
  return Object.fromEntries(lines.slice(1).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}
/** The SPICE <graphics> element of the domain's live XML, passwords included. */
function liveGraphics() {
  const xml = virsh('dumpxml', '--security-info', domain);
  const m = xml.match(/<graphics type='spice'[^>]*>/);
  assert.ok(m, `no SPICE graphics in ${xml}`);
  const attr = (name) => m[0].match(new RegExp(` ${name}='([^']*)'`))?.[1];
  return { passwd: attr('passwd'), validTo: attr('passwdValidTo'), port: attr('port'), listen: attr('listen') };
}
function spiceConnect(host, port, password) {
  const r = spawnSync('/usr/bin/python3', [CONNECT, host, String(port), password], { encoding: 'utf8', timeout: 40_000 });
  return r.stdout.trim();
}
async function vv(client, id) {
  return client.request('GET', `/api/v1/vms/${id}/console/spice`);
}

before(async () => {
  admin = await adminClient();
  a = await userClient(admin);
  b = await userClient(admin);
  const templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
  const made = await createVmDone(a.client, {
    name: 'SPICE 测试', template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1, graphics: 'spice',
  });
  assert.equal(made.status, 201, made.text);
  cleanup.push(made.vm.id);
  assert.equal(made.job.state, 'succeeded', made.job.message);
  vm = made.vm;
  domain = sql(`SELECT domain_name FROM vms WHERE id = ${vm.id}`)[0][0];
});

after(async () => {
  for (const id of cleanup) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
});

describe('SPICE console', () => {
  test('the VM says its graphics; SPICE listens on 127.0.0.1 only', async () => {
    assert.equal(vm.graphics, 'spice');
    assert.equal(vm.console_listen, '127.0.0.1');
    const g = await waitFor(() => {
      const now = liveGraphics();
      return Number(now.port) > 0 && now;
    }, 60_000, 200);
    assert.equal(g.listen, '127.0.0.1');
    const listening = execFileSync('ss', ['-Hltn', `sport = :${g.port}`], { encoding: 'utf8' })
      .split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/)[3]);
    assert.deepEqual(listening, [`127.0.0.1:${g.port}`], 'one listener, on loopback');
  });

  test('the .vv file: a one-time password set on the live domain with its expiry', async () => {
    const before = Date.now();
    const res = await vv(a.client, vm.id);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('content-type'), 'application/x-virt-viewer');
    assert.equal(res.headers.get('content-disposition'), `attachment; filename="vm-${vm.id}.vv"`);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const file = parseVv(res.text);
    const g = liveGraphics();
    assert.equal(file.type, 'spice');
    assert.equal(file.host, '127.0.0.1');
    assert.equal(file.port, g.port);
    assert.equal(file['delete-this-file'], '1');
    assert.equal(file.title, 'SPICE 测试');
    assert.match(file.password, /^[A-Za-z0-9]{24}$/);
    assert.equal(g.passwd, file.password, 'the live domain has the password of the file');
    const validTo = Date.parse(`${g.validTo}Z`);
    assert.ok(validTo > before + 50_000 && validTo < Date.now() + 61_000, `valid to ${g.validTo}`);
    assert.equal(res.headers.get('x-password-valid-to'), g.validTo);

    // A real SPICE client gets in with it, and not with another.
    assert.equal(spiceConnect(file.host, file.port, file.password), 'opened');
    assert.equal(spiceConnect(file.host, file.port, 'wrong-password'), 'auth');

    // Each file has its own password; the last one is the one that works.
    const second = parseVv((await vv(a.client, vm.id)).text);
    assert.notEqual(second.password, file.password);
    assert.equal(liveGraphics().passwd, second.password);
    assert.equal(spiceConnect(second.host, second.port, file.password), 'auth');
  });

  test("another user's VM is a 404; no session, a 401; an API token works", async () => {
    assertError(await vv(b.client, vm.id), 404, 'not_found');
    assertError(await vv(new Client('anon'), vm.id), 401, 'unauthenticated');
    const token = await apiTokenOf(a.client);
    const res = await fetch(`${BASE}/api/v1/vms/${vm.id}/console/spice`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.equal(parseVv(await res.text()).type, 'spice');
  });

  test('graphics, keymap, listen and password change while stopped; the guide\'s vnc/config maps onto it', async () => {
    assertError(await a.client.api('PATCH', `/vms/${vm.id}`, { console_keymap: 'de' }), 409, 'wrong_state');
    assert.equal((await a.client.api('POST', `/vms/${vm.id}/stop`, { force: true })).status, 200);
    await waitFor(async () => dataOf(await a.client.api('GET', `/vms/${vm.id}`)).state === 'stopped', 60_000, 200);
    assertError(await vv(a.client, vm.id), 409, 'not_running');

    assertError(await a.client.api('PATCH', `/vms/${vm.id}`, { console_listen: '0.0.0.0' }), 422, 'listen_not_allowed');
    assertError(await a.client.api('PATCH', `/vms/${vm.id}`, { console_keymap: 'klingon' }), 400, 'invalid_choice');
    assertError(await a.client.api('PATCH', `/vms/${vm.id}`, { graphics: 'rdp' }), 400, 'invalid_choice');
    const changed = dataOf(await a.client.api('PATCH', `/vms/${vm.id}`, { graphics: 'vnc', console_keymap: 'de' }));
    assert.equal(changed.graphics, 'vnc');
    assert.equal(changed.console_keymap, 'de');
    const xml = virsh('dumpxml', '--inactive', '--security-info', domain);
    assert.match(xml, /<graphics type='vnc'[^>]* keymap='de'/);
    assert.doesNotMatch(xml, /type='spice'/);

    // The guide's configureVnc, as printed, with the guide's own VncConfig.
    const token = await apiTokenOf(a.client);
    const configureVnc = async (vmId, vncConfig) => {
      const config = {
        enabled: vncConfig.enabled,
        password: vncConfig.password,
        port: vncConfig.port,
        listen: vncConfig.listen, // 监听地址
        keymap: vncConfig.keymap, // 键盘映射
      };
      const response = await fetch(`${BASE}/api/v1/vms/${vmId}/console/vnc/config`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify(config),
      });
      return { status: response.status, deprecation: response.headers.get('deprecation'), result: await response.json() };
    };
    const ok = await configureVnc(vm.id, { enabled: true, password: 'n3w-pass', port: null, listen: '127.0.0.1', keymap: 'fr' });
    assert.equal(ok.status, 200, JSON.stringify(ok.result));
    assert.equal(ok.result.success, true);
    assert.equal(ok.deprecation, 'true');
    assert.equal(ok.result.data.console_keymap, 'fr');
    assert.equal(sql(`SELECT vnc_password FROM vms WHERE id = ${vm.id}`)[0][0], 'n3w-pass');
    assert.match(virsh('dumpxml', '--inactive', '--security-info', domain), /<graphics type='vnc'[^>]* passwd='n3w-pass'[^>]* keymap='fr'|<graphics type='vnc'[^>]* keymap='fr'[^>]* passwd='n3w-pass'|<graphics type='vnc'[^>]*passwd='n3w-pass'/);
    for (const [bad, field, status, code] of [
      [{ port: 5901 }, 'port', 422, 'unsupported'],
      [{ enabled: false }, 'enabled', 422, 'unsupported'],
      [{ listen: '0.0.0.0' }, 'listen', 422, 'listen_not_allowed'],
    ]) {
      const r = await configureVnc(vm.id, { enabled: true, keymap: 'fr', ...bad });
      assert.equal(r.status, status, JSON.stringify(r.result));
      assert.equal(r.result.success, false);
      assert.equal(r.result.error.code, code);
      assert.equal(r.result.error.field, field);
    }
    const theirs = await fetch(`${BASE}/api/v1/vms/${vm.id}/console/vnc/config`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await apiTokenOf(b.client)}` },
      body: JSON.stringify({ enabled: true, keymap: 'de' }),
    });
    assert.equal(theirs.status, 404);

    // Back to SPICE, started: a .vv again.
    dataOf(await a.client.api('PATCH', `/vms/${vm.id}`, { graphics: 'spice' }));
    assert.equal((await a.client.api('POST', `/vms/${vm.id}/start`, {})).status, 200);
    const res = await waitFor(async () => {
      const r = await vv(a.client, vm.id);
      return r.status === 200 && r;
    }, 60_000, 300);
    assert.equal(parseVv(res.text).type, 'spice');
  });
});
