// vmm-scheduler (issue 11): each slot of a task runs once even with two
// schedulers running; a restarted scheduler carries on; its helper socket
// serves alert.action alone, which the programs' socket refuses.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { connect } from 'node:net';
import {
  adminClient, dataOf, schedulerPids, sql, startScheduler, STATE, userClient, waitFor,
} from './lib.mjs';
import { webhookReceiver } from './receivers.mjs';

let admin;
let a;
let hook;

before(async () => {
  admin = await adminClient();
  a = await userClient(admin);
  hook = await webhookReceiver('k');
});
after(async () => { await hook?.close(); });

async function testDelivery(channelId) {
  const id = dataOf(await a.client.api('POST', `/notification-channels/${channelId}/test`)).id;
  return waitFor(async () => dataOf(await a.client.api('GET', `/notification-channels/${channelId}/deliveries`))
    .find((d) => d.id === id && d.state === 'sent'), 20_000, 200);
}

test('two schedulers: each slot runs once, every message is sent once', async () => {
  assert.equal(schedulerPids().length, 1, 'tools/dev started one scheduler');
  const second = await startScheduler();
  try {
    const c = dataOf(await a.client.api('POST', '/notification-channels', {
      name: 'twice', type: 'webhook', config: { url: hook.url, secret: 'k' },
    }));
    const before = hook.messages.length;
    for (let i = 0; i < 4; i++) await testDelivery(c.id);
    // Both compete for the slots...
    await waitFor(() => Number(sql(`SELECT COUNT(DISTINCT claimed_by) FROM scheduler_runs
      WHERE task = 'notifications.deliver' AND claimed_at > UTC_TIMESTAMP() - INTERVAL 20 SECOND`)[0][0]) === 2, 20_000, 500);
    // ...each slot has one claim (the primary key), and no message went twice.
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(hook.messages.length - before, 4);
  } finally {
    process.kill(second, 'SIGTERM');
    await waitFor(() => !schedulerPids().includes(second), 10_000, 100);
  }
});

test('a restarted scheduler carries on', async () => {
  const [pid] = schedulerPids();
  process.kill(pid, 'SIGTERM');
  await waitFor(() => schedulerPids().length === 0, 10_000, 100);
  const c = dataOf(await a.client.api('POST', '/notification-channels', {
    name: 'later', type: 'webhook', config: { url: hook.url, secret: 'k' },
  }));
  // Queued while no scheduler runs: sent once one is back.
  const id = dataOf(await a.client.api('POST', `/notification-channels/${c.id}/test`)).id;
  await startScheduler();
  await waitFor(async () => dataOf(await a.client.api('GET', `/notification-channels/${c.id}/deliveries`))
    .find((d) => d.id === id && d.state === 'sent'), 20_000, 200);
});

function helperCall(socket, request) {
  return new Promise((resolve, reject) => {
    const sock = connect(socket);
    let got = Buffer.alloc(0);
    sock.on('connect', () => {
      const body = Buffer.from(JSON.stringify(request));
      const header = Buffer.alloc(4);
      header.writeUInt32BE(body.length);
      sock.write(Buffer.concat([header, body]));
    });
    sock.on('data', (chunk) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 4 && got.length >= 4 + got.readUInt32BE(0)) {
        sock.destroy();
        resolve(JSON.parse(got.subarray(4, 4 + got.readUInt32BE(0)).toString()));
      }
    });
    sock.on('error', reject);
  });
}

test("the scheduler's helper socket serves alert.action alone, and only it does", async () => {
  const web = `${STATE}/run/vmm-helper.sock`;
  const sched = `${STATE}/run/vmm-helper-scheduler.sock`;
  // (The test runs as root, whom both sockets let in; the op table decides.)
  const onWeb = await helperCall(web, { op: 'alert.action', args: { alert_id: 1 } });
  assert.equal(onWeb.ok, false);
  assert.equal(onWeb.error.status, 403);
  const other = await helperCall(sched, { op: 'vm.start', args: { vm_id: 1 }, actor: 1 });
  assert.equal(other.ok, false);
  assert.equal(other.error.status, 403);
  // An alert that is not firing with an action is not acted on.
  const none = await helperCall(sched, { op: 'alert.action', args: { alert_id: 999999 } });
  assert.equal(none.ok, false);
  assert.equal(none.error.status, 404);
  assert.equal(statSync(sched).mode & 0o777, 0o660, 'the socket is for its group only');
});
