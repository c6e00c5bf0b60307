// The browser console through the real nginx: a one-time token from
// /api/v1/vms/{id}/console, then /console/ws, where nginx's auth_request
// asks vmm-console and proxies the websocket to QEMU's own VNC websocket.
// A real RFB client speaks the handshake (VNC auth with the VM's password,
// DES from noVNC's own module) up to ServerInit; every refusal is checked
// through nginx too.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { createServer } from 'node:net';
import {
  adminClient, apiTokenOf, assertError, BASE, Client, createVmDone, dataOf, sql, STATE, stopVmForced, userClient, waitFor,
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
/** The raw token of a ticket: its subprotocol vmm-ticket.<token>. */
const rawToken = (ticket) => ticket.ws_protocols.find((p) => p.startsWith('vmm-ticket.')).slice(11);
/** The same ticket for another VM's path. */
const forVm = (ticket, vmId) => ({ ...ticket, ws_path: `/console/ws?vm=${vmId}` });

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
    assert.equal(data.ws_path, `/console/ws?vm=${vm.id}`, 'no token in the URL');
    assert.equal(data.ws_protocols.length, 2);
    assert.equal(data.ws_protocols[0], 'binary');
    const m = /^vmm-ticket\.([0-9a-f]{64})$/.exec(data.ws_protocols[1]);
    assert.ok(m, data.ws_protocols[1]);
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
    const opened = await openConsole(owner, data);
    assert.ok(opened.ws, `upgrade refused: ${opened.status} ${opened.text}`);
    const init = await rfbHandshake(opened, data.password);
    assert.deepEqual(init.types, [2], 'VNC authentication is the only choice');
    assert.ok(init.width > 0 && init.height > 0, `framebuffer ${init.width}x${init.height}`);
    assert.equal(init.name, `QEMU (${domainOf(vm.id)})`);
    await closeWs(opened.ws);
  });

  test('an idle console outlives nginx\'s default 60 s proxy timeout and still draws', async () => {
    const data = await token(owner, vm.id);
    const opened = await openConsole(owner, data);
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
    const opened = await openConsole(owner, data);
    assert.ok(opened.ws);
    await assert.rejects(rfbHandshake(opened, 'wrong123'), /VNC authentication succeeds|closed/);
    await closeWs(opened.ws);
  });

  test('a reused token is refused with 403', async () => {
    const data = await token(owner, vm.id);
    const first = await openConsole(owner, data);
    assert.ok(first.ws);
    await closeWs(first.ws);
    const again = await openConsole(owner, data);
    assert.equal(again.status, 403, again.text);
    assert.equal(again.body.error.code, 'console_refused');
  });

  test('an expired token is refused with 403', async () => {
    const data = await token(owner, vm.id);
    const raw = rawToken(data);
    sql(`UPDATE console_tokens SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 SECOND WHERE digest = '${digest(raw)}'`);
    const res = await openConsole(owner, data);
    assert.equal(res.status, 403, res.text);
  });

  test('a token for another VM, or of another user, is refused with 403', async () => {
    const data = await token(owner, vm.id);
    const res = await openConsole(owner, forVm(data, stoppedVm.id));
    assert.equal(res.status, 403, res.text);
    const stolen = await token(owner, vm.id);
    const res2 = await openConsole(other, stolen);
    assert.equal(res2.status, 403, res2.text);
  });

  test('a refused token is not used up: its owner still connects with it', async () => {
    const data = await token(owner, vm.id);
    const raw = rawToken(data);
    // Another user presents it, and the owner for another VM: both refused.
    const stolen = await openConsole(other, data);
    assert.equal(stolen.status, 403, stolen.text);
    const elsewhere = await openConsole(owner, forVm(data, stoppedVm.id));
    assert.equal(elsewhere.status, 403, elsewhere.text);
    assert.equal(sql(`SELECT used_at IS NULL FROM console_tokens WHERE digest = '${digest(raw)}'`)[0][0], '1',
      'the refusals left the token unused');
    const opened = await openConsole(owner, data);
    assert.ok(opened.ws, `upgrade refused: ${opened.status} ${opened.text}`);
    const init = await rfbHandshake(opened, data.password);
    assert.equal(init.name, `QEMU (${domainOf(vm.id)})`);
    await closeWs(opened.ws);
    assert.equal(sql(`SELECT used_at IS NULL FROM console_tokens WHERE digest = '${digest(raw)}'`)[0][0], '0');
    // Used once by its owner, it is spent for everyone.
    assert.equal((await openConsole(other, data)).status, 403);
    assert.equal((await openConsole(owner, data)).status, 403);
  });

  test('no session is a 401; a missing, malformed or doubled token a 403', async () => {
    const data = await token(owner, vm.id);
    const res = await openConsole(null, data);
    assert.equal(res.status, 401, res.text);
    assert.equal(res.body.error.code, 'unauthenticated');
    const path = `/console/ws?vm=${vm.id}`;
    for (const protocols of [['binary'], ['binary', 'vmm-ticket.abc'], ['binary', `vmm-ticket.${'0'.repeat(64)}`],
      ['binary', data.ws_protocols[1], `vmm-ticket.${'0'.repeat(64)}`]]) {
      const r = await openConsole(owner, { ws_path: path, ws_protocols: protocols });
      assert.equal(r.status, 403, `${protocols}: ${r.text}`);
    }
  });

  test('a token in the URL (the old ?token= form) is refused before anything is asked, and logged nowhere', async () => {
    const data = await token(owner, vm.id);
    const raw = rawToken(data);
    for (const path of [`/console/ws?token=${raw}&vm=${vm.id}`, `/console/ws?vm=${vm.id}&token=${raw}`,
      `/console/ws?vm=${vm.id}&t=${raw}`, '/console/ws', '/console/ws?vm=x']) {
      const r = await openConsole(owner, { ws_path: path, ws_protocols: ['binary'] });
      assert.equal(r.status, 400, `${path}: ${r.text}`);
      assert.equal(r.body.error.code, 'bad_console_url');
      assert.match(r.body.error.message, /Sec-WebSocket-Protocol/);
    }
    assert.equal(sql(`SELECT used_at IS NULL FROM console_tokens WHERE digest = '${digest(raw)}'`)[0][0], '1',
      'vmm-console was never asked');
    await waitFor(() => readFileSync(`${STATE}/log/nginx-access.log`, 'utf8').includes('"GET /console/ws" 400'), 10_000, 100);
    for (const log of ['nginx-access.log', 'nginx-error.log'])
      assert.ok(!readFileSync(`${STATE}/log/${log}`, 'utf8').includes(raw), `the token is in ${log}`);
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
      const opened = await openConsole(owner, data, forged);
      assert.ok(opened.ws, `upgrade refused: ${opened.status} ${opened.text}`);
      const init = await rfbHandshake(opened, data.password);
      assert.equal(init.name, `QEMU (${domainOf(vm.id)})`, 'the stream is the VM, not the forged port');
      await closeWs(opened.ws);
      const refused = await openConsole(owner, { ws_path: `/console/ws?vm=${vm.id}`,
        ws_protocols: ['binary', `vmm-ticket.${'1'.repeat(64)}`] }, forged);
      assert.equal(refused.status, 403);
      assert.equal(reached, 0, 'nginx never connected to the forged port');
      // The token never reaches the access log.
      const log = readFileSync(`${STATE}/log/nginx-access.log`, 'utf8');
      assert.ok(!log.includes(rawToken(data)));
    } finally {
      trap.close();
    }
  });

  test('the VNC password changes live on the running VM: the old one is refused, the new one opens it, after a restart too', async () => {
    const oldPassword = sql(`SELECT vnc_password FROM vms WHERE id = ${vm.id}`)[0][0];
    // Graphics, keymap and listen address still wait for a stop.
    assertError(await owner.api('PATCH', `/vms/${vm.id}`, { console_keymap: 'de', vnc_password: 'Never-1' }), 409, 'wrong_state');
    assert.equal(sql(`SELECT vnc_password FROM vms WHERE id = ${vm.id}`)[0][0], oldPassword, 'a refused PATCH changed nothing');
    assertError(await other.api('PATCH', `/vms/${vm.id}`, { vnc_password: 'Theirs-1' }), 404, 'not_found');

    const changed = await owner.api('PATCH', `/vms/${vm.id}`, { vnc_password: 'Live-Pw1' });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(dataOf(changed).state, 'running', 'the VM ran on');
    const attempt = async (password) => {
      const data = await token(owner, vm.id);
      assert.equal(data.password, 'Live-Pw1', 'the console ticket hands out the new password');
      const opened = await openConsole(owner, data);
      assert.ok(opened.ws, `upgrade refused: ${opened.status} ${opened.text}`);
      try {
        return await rfbHandshake(opened, password);
      } finally {
        await closeWs(opened.ws);
      }
    };
    await assert.rejects(attempt(oldPassword), /VNC authentication succeeds|closed/, 'the old password still opens it');
    assert.equal((await attempt('Live-Pw1')).name, `QEMU (${domainOf(vm.id)})`);
    const audit = sql(`SELECT CONCAT(detail, ' ', IFNULL(changes, '')) FROM audit_log WHERE action = 'vm.update' AND target_id = ${vm.id}`);
    assert.ok(audit.length >= 1);
    for (const [row] of audit) assert.ok(!row.includes('Live-Pw1'), `the password is in the audit row ${row}`);

    // The guide's configureVnc path with only a password: live as well.
    const apiToken = await apiTokenOf(owner);
    const guide = await fetch(`${BASE}/api/v1/vms/${vm.id}/console/vnc/config`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${apiToken}` },
      body: JSON.stringify({ enabled: true, password: 'Guide-P2' }),
    });
    assert.equal(guide.status, 200, await guide.text());
    const data = await token(owner, vm.id);
    assert.equal(data.password, 'Guide-P2');
    const refused = await openConsole(owner, data);
    await assert.rejects(rfbHandshake(refused, 'Live-Pw1'), /VNC authentication succeeds|closed/);
    await closeWs(refused.ws);

    // The persistent definition got it too (and kept its automatic ports):
    // after a stop and a start the new password opens the console.
    const inactive = execFileSync('virsh', ['-c', 'qemu:///system', 'dumpxml', '--inactive', domainOf(vm.id)], { encoding: 'utf8' });
    assert.match(inactive, /<graphics type='vnc'[^>]* websocket='-1'/, 'the config keeps an automatic websocket port');
    await stopVmForced(owner, vm.id);
    await waitFor(async () => dataOf(await owner.api('GET', `/vms/${vm.id}`)).state === 'stopped', 30_000, 200);
    const start = await owner.api('POST', `/vms/${vm.id}/start`, {});
    assert.ok([200, 202].includes(start.status), start.text);
    const opened = await waitFor(async () => {
      const r = await owner.api('GET', `/vms/${vm.id}/console`);
      if (r.status !== 200) return false;
      const o = await openConsole(owner, r.body.data);
      return o.ws ? o : false;
    }, 60_000, 500);
    const init = await rfbHandshake(opened, 'Guide-P2');
    assert.equal(init.name, `QEMU (${domainOf(vm.id)})`);
    await closeWs(opened.ws);
  });

  test('when an upstream fails, neither nginx log holds a console token or the live feed\'s API token', async () => {
    // The backends go away for a moment: their sockets are moved aside
    // (the workers live on), so nginx's connect fails and it writes the
    // request line into its error log.
    const log = (name) => readFileSync(`${STATE}/log/${name}`, 'utf8');
    const aside = async (socket, body) => {
      renameSync(socket, `${socket}.away`);
      try {
        await body();
      } finally {
        renameSync(`${socket}.away`, socket);
      }
    };
    const errorsBefore = log('nginx-error.log').length;
    const data = await token(owner, vm.id);
    await aside(`${STATE}/run/vmm-console.sock`, async () => {
      const res = await openConsole(owner, data);
      assert.ok(res.status >= 500, `the console answered ${res.status} without vmm-console`);
    });
    await waitFor(() => log('nginx-error.log').slice(errorsBefore).includes(`/console/ws?vm=${vm.id}`), 10_000, 100);
    const apiToken = await apiTokenOf(owner);
    await aside(`${STATE}/run/live/vmm-live.sock`, async () => {
      // The guide's own form: the API token in the query.
      const res = await openConsole(null, { ws_path: `/api/v1/ws?token=${apiToken}`, ws_protocols: [] });
      assert.equal(res.status, 503, `vmm-live is away: ${res.status} ${res.text}`);
      assert.equal(res.body.error.code, 'service_unavailable');
    });
    await waitFor(() => log('nginx-access.log').includes('"GET /api/v1/ws" 503'), 10_000, 100);
    // The console's refusal was logged (its path and vm), the credentials nowhere.
    for (const name of ['nginx-error.log', 'nginx-access.log']) {
      const text = log(name);
      assert.ok(!text.includes(rawToken(data)), `the console token is in ${name}`);
      assert.ok(!text.includes(apiToken), `the API token is in ${name}`);
      assert.ok(!text.includes(apiToken.slice(4, 36)), `part of the API token is in ${name}`);
    }
    // vmm-console never saw the token: it is still unused.
    assert.equal(sql(`SELECT used_at IS NULL FROM console_tokens WHERE digest = '${digest(rawToken(data))}'`)[0][0], '1');
  });

  test('a VM stopped after the token was issued: 409 with a message', async () => {
    const data = await token(owner, vm.id);
    const stop = await owner.api('POST', `/vms/${vm.id}/stop`, { force: true });
    assert.equal(stop.status, 200, stop.text);
    const res = await openConsole(owner, data);
    assert.equal(res.status, 409, res.text);
    assert.equal(res.body.error.code, 'not_running');
    assert.match(res.body.error.message, /not running/);
  });
});
