// The browser console through the real nginx: a one-time token from
// /api/v1/vms/{id}/console, then /console/ws, where nginx's auth_request
// asks vmm-console and proxies the websocket to QEMU's own VNC websocket.
// A real RFB client speaks the handshake (VNC auth with the VM's password,
// DES from noVNC's own module) up to ServerInit; every refusal is checked
// through nginx too.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import {
  adminClient, assertError, Client, createVmDone, sql, STATE, userClient, waitFor,
} from './lib.mjs';
import { closeWs, openConsole, rfbHandshake } from './rfb.mjs';

const BOOT_DEADLINE_MS = 120_000;

function domainOf(vmId) {
  return sql(`SELECT domain_name FROM vms WHERE id = ${Number(vmId)}`)[0][0];
}
function serialLog(domain) {
  const path = `${STATE}/pool/consoles/${domain}.log`;
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}
const digest = (token) => createHash('sha256').update(token).digest('hex');

let admin;
let owner;
let other;
let templateId;
let vm;
let stoppedVm;
const cleanup = [];

async function createVm(client, fields = {}) {
  const made = await createVmDone(client, {
    name: 'console', template_id: templateId, vcpus: 1, memory_mb: 256, disk_gb: 1, ...fields,
  });
  assert.equal(made.status, 201, made.text);
  assert.equal(made.job.state, 'succeeded', made.job.message);
  cleanup.push(made.vm.id);
  return made.vm;
}

async function token(client, vmId) {
  const res = await client.api('GET', `/vms/${vmId}/console`);
  assert.equal(res.status, 200, res.text);
  return res.body.data;
}

before(async () => {
  admin = await adminClient();
  templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
  ({ client: owner } = await userClient(admin));
  ({ client: other } = await userClient(admin));
  vm = await createVm(owner, { name: '控制台' });
  stoppedVm = await createVm(owner, { name: 'off', start: false });
  const domain = domainOf(vm.id);
  await waitFor(() => serialLog(domain).includes('VMM-TEST: boot ok'), BOOT_DEADLINE_MS, 500);
});

after(async () => {
  for (const id of cleanup) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
});

describe('console tokens', () => {
  test('a token is single-use, bound to the VM, expires within 60 s, and its digest alone is stored', async () => {
    const before = Date.now();
    const data = await token(owner, vm.id);
    assert.equal(data.type, 'vnc');
    const m = /^\/console\/ws\?token=([0-9a-f]{64})&vm=(\d+)$/.exec(data.ws_path);
    assert.ok(m, data.ws_path);
    assert.equal(Number(m[2]), vm.id);
    const expires = Date.parse(data.expires_at);
    assert.ok(expires - before <= 61_000 && expires > before, `expires_at ${data.expires_at}`);
    assert.match(data.password, /^[A-Za-z0-9]{8}$/);
    assert.equal(sql(`SELECT COUNT(*) FROM console_tokens WHERE digest = '${m[1]}'`)[0][0], '0');
    assert.equal(sql(`SELECT COUNT(*) FROM console_tokens WHERE digest = '${digest(m[1])}'`)[0][0], '1');
    assert.ok(Number(sql(`SELECT COUNT(*) FROM audit_log WHERE action = 'vm.console' AND target_id = ${vm.id}`)[0][0]) >= 1,
      'opening a console is audited');
  });

  test('the VNC password never appears in a page, only in the token JSON', async () => {
    const { password } = await token(owner, vm.id);
    assert.equal(sql(`SELECT vnc_password FROM vms WHERE id = ${vm.id}`)[0][0], password);
    for (const path of [`/vms/${vm.id}`, `/vms/${vm.id}/console`]) {
      const res = await owner.get(path);
      assert.equal(res.status, 200, path);
      assert.ok(!res.text.includes(password), `${path} shows the VNC password`);
    }
    const page = await owner.get(`/vms/${vm.id}`);
    assert.match(page.text, new RegExp(`href="/vms/${vm.id}/console"`), 'a running VM links its console');
    const offPage = await owner.get(`/vms/${stoppedVm.id}`);
    assert.doesNotMatch(offPage.text, /id="open-console"/);
  });

  test('refusals of the token endpoint: 401, 404, 409', async () => {
    assertError(await new Client('anon').api('GET', `/vms/${vm.id}/console`), 401, 'unauthenticated');
    assertError(await other.api('GET', `/vms/${vm.id}/console`), 404, 'not_found');
    assertError(await owner.api('GET', '/vms/999999999/console'), 404, 'not_found');
    const res = await owner.api('GET', `/vms/${stoppedVm.id}/console`);
    assertError(res, 409, 'not_running');
    assert.match(res.body.error.message, /not running/);
    // The page of another user's VM is a 404 as well.
    assert.equal((await other.get(`/vms/${vm.id}/console`)).status, 404);
  });

  test('a user-chosen VNC password is checked and used', async () => {
    const bad = await owner.api('POST', '/vms', {
      name: 'pw', template_id: templateId, vcpus: 1, memory_mb: 256, vnc_password: 'far-too-long',
    });
    assertError(bad, 400, 'invalid_length');
    const bad2 = await owner.api('POST', '/vms', {
      name: 'pw', template_id: templateId, vcpus: 1, memory_mb: 256, vnc_password: '密码',
    });
    assertError(bad2, 400, 'invalid_characters');
    const chosen = await createVm(owner, { name: 'pw', start: false, vnc_password: 'Op3n-Me!' });
    assert.equal(sql(`SELECT vnc_password FROM vms WHERE id = ${chosen.id}`)[0][0], 'Op3n-Me!');
    const del = await owner.api('DELETE', `/vms/${chosen.id}?delete_disks=true`);
    assert.equal(del.status, 200, del.text);
  });
});

describe('the console websocket through nginx', () => {
  test('an RFB client reaches ServerInit with the VNC password; QEMU asks for it', async () => {
    const data = await token(owner, vm.id);
    const opened = await openConsole(owner, data.ws_path);
    assert.ok(opened.ws, `upgrade refused: ${opened.status} ${opened.text}`);
    const init = await rfbHandshake(opened, data.password);
    assert.deepEqual(init.types, [2], 'VNC authentication is the only choice');
    assert.ok(init.width > 0 && init.height > 0, `framebuffer ${init.width}x${init.height}`);
    assert.equal(init.name, `QEMU (${domainOf(vm.id)})`);
    await closeWs(opened.ws);
  });

  test('an idle console outlives nginx\'s default 60 s proxy timeout and still draws', async () => {
    const data = await token(owner, vm.id);
    const opened = await openConsole(owner, data.ws_path);
    assert.ok(opened.ws, `upgrade refused: ${opened.status} ${opened.text}`);
    const init = await rfbHandshake(opened, data.password);
    // 75 s without a byte either way: a proxy with the default timeouts
    // would have closed the connection after 60.
    const closedEarly = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 75_000);
      opened.ws.once('close', () => { clearTimeout(timer); resolve(true); });
    });
    assert.equal(closedEarly, false, 'the idle console was cut');
    // FramebufferUpdateRequest for the whole screen: QEMU answers with an update.
    const request = Buffer.alloc(10);
    request.writeUInt8(3, 0);
    request.writeUInt16BE(init.width, 6);
    request.writeUInt16BE(init.height, 8);
    opened.ws.send(request);
    const header = await opened.rd.read(4);
    assert.equal(header[0], 0, 'a FramebufferUpdate message');
    assert.ok(header.readUInt16BE(2) > 0, 'with at least one rectangle');
    await closeWs(opened.ws);
  });

  test('a wrong VNC password is refused by QEMU', async () => {
    const data = await token(owner, vm.id);
    const opened = await openConsole(owner, data.ws_path);
    assert.ok(opened.ws);
    await assert.rejects(rfbHandshake(opened, 'wrong123'), /VNC authentication succeeds|closed/);
    await closeWs(opened.ws);
  });

  test('a reused token is refused with 403', async () => {
    const data = await token(owner, vm.id);
    const first = await openConsole(owner, data.ws_path);
    assert.ok(first.ws);
    await closeWs(first.ws);
    const again = await openConsole(owner, data.ws_path);
    assert.equal(again.status, 403, again.text);
    assert.equal(again.body.error.code, 'console_refused');
  });

  test('an expired token is refused with 403', async () => {
    const data = await token(owner, vm.id);
    const raw = /token=([0-9a-f]{64})/.exec(data.ws_path)[1];
    sql(`UPDATE console_tokens SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 SECOND WHERE digest = '${digest(raw)}'`);
    const res = await openConsole(owner, data.ws_path);
    assert.equal(res.status, 403, res.text);
  });

  test('a token for another VM, or of another user, is refused with 403', async () => {
    const data = await token(owner, vm.id);
    const res = await openConsole(owner, data.ws_path.replace(/vm=\d+/, `vm=${stoppedVm.id}`));
    assert.equal(res.status, 403, res.text);
    const stolen = await token(owner, vm.id);
    const res2 = await openConsole(other, stolen.ws_path);
    assert.equal(res2.status, 403, res2.text);
  });

  test('a refused token is not used up: its owner still connects with it', async () => {
    const data = await token(owner, vm.id);
    const raw = /token=([0-9a-f]{64})/.exec(data.ws_path)[1];
    // Another user presents it, and the owner for another VM: both refused.
    const stolen = await openConsole(other, data.ws_path);
    assert.equal(stolen.status, 403, stolen.text);
    const elsewhere = await openConsole(owner, data.ws_path.replace(/vm=\d+/, `vm=${stoppedVm.id}`));
    assert.equal(elsewhere.status, 403, elsewhere.text);
    assert.equal(sql(`SELECT used_at IS NULL FROM console_tokens WHERE digest = '${digest(raw)}'`)[0][0], '1',
      'the refusals left the token unused');
    const opened = await openConsole(owner, data.ws_path);
    assert.ok(opened.ws, `upgrade refused: ${opened.status} ${opened.text}`);
    const init = await rfbHandshake(opened, data.password);
    assert.equal(init.name, `QEMU (${domainOf(vm.id)})`);
    await closeWs(opened.ws);
    assert.equal(sql(`SELECT used_at IS NULL FROM console_tokens WHERE digest = '${digest(raw)}'`)[0][0], '0');
    // Used once by its owner, it is spent for everyone.
    assert.equal((await openConsole(other, data.ws_path)).status, 403);
    assert.equal((await openConsole(owner, data.ws_path)).status, 403);
  });

  test('no session is a 401; a malformed token a 403', async () => {
    const data = await token(owner, vm.id);
    const res = await openConsole(null, data.ws_path);
    assert.equal(res.status, 401, res.text);
    assert.equal(res.body.error.code, 'unauthenticated');
    for (const path of ['/console/ws', '/console/ws?token=abc&vm=1', `/console/ws?token=${'0'.repeat(64)}&vm=${vm.id}`,
      `/console/ws?token=${'0'.repeat(64)}&vm=x`]) {
      const r = await openConsole(owner, path);
      assert.equal(r.status, 403, `${path}: ${r.text}`);
    }
  });

  test('a port header forged by the client is ignored', async () => {
    // A listener that would see any connection nginx made to the forged port.
    let reached = 0;
    const trap = createServer((s) => { reached += 1; s.destroy(); });
    await new Promise((resolve) => trap.listen(0, '127.0.0.1', resolve));
    const port = String(trap.address().port);
    const forged = { 'X-Console-Port': port, 'X-Console-Status': '200' };
    try {
      const data = await token(owner, vm.id);
      const opened = await openConsole(owner, data.ws_path, forged);
      assert.ok(opened.ws, `upgrade refused: ${opened.status} ${opened.text}`);
      const init = await rfbHandshake(opened, data.password);
      assert.equal(init.name, `QEMU (${domainOf(vm.id)})`, 'the stream is the VM, not the forged port');
      await closeWs(opened.ws);
      const refused = await openConsole(owner, `/console/ws?token=${'1'.repeat(64)}&vm=${vm.id}`, forged);
      assert.equal(refused.status, 403);
      assert.equal(reached, 0, 'nginx never connected to the forged port');
      // The token never reaches the access log.
      const log = readFileSync(`${STATE}/log/nginx-access.log`, 'utf8');
      assert.doesNotMatch(log, new RegExp(data.ws_path.match(/token=([0-9a-f]+)/)[1]));
    } finally {
      trap.close();
    }
  });

  test('a VM stopped after the token was issued: 409 with a message', async () => {
    const data = await token(owner, vm.id);
    const stop = await owner.api('POST', `/vms/${vm.id}/stop`, { force: true });
    assert.equal(stop.status, 200, stop.text);
    const res = await openConsole(owner, data.ws_path);
    assert.equal(res.status, 409, res.text);
    assert.equal(res.body.error.code, 'not_running');
    assert.match(res.body.error.message, /not running/);
  });
});
