// Workers reuse sessions and rendered lists while no database write
// happened (lib/generation.h). What a user must never see: a stale list
// after a change, another session's form token, another user's VMs, or a
// session that lives on after logout or after its account is disabled.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Client, adminClient, assertError, createVmDone, formToken, q, sql, uniqueName, userClient, waitFor,
} from './lib.mjs';

// Enough requests for each of a program's workers to answer (and cache)
// several times: spawn-fcgi's workers take connections in turn.
const WARM = 12;

let admin;
let templateId;
before(async () => {
  admin = await adminClient();
  templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
});
after(async () => {
  await admin?.logout();
});

async function warm(client, path) {
  let last;
  for (let i = 0; i < WARM; i++) {
    last = await client.get(path);
    assert.equal(last.status, 200, `${path}: ${last.text.slice(0, 200)}`);
  }
  return last;
}

function listed(res) {
  return res.body.data.map((vm) => [vm.name, vm.description]);
}

test('a change made through the API shows in a warm list at once, on every worker', async () => {
  const { client } = await userClient(admin);
  const name = uniqueName('cache');
  const made = await createVmDone(client, {
    name, template_id: templateId, vcpus: 1, memory_mb: 256, disk_gb: 1, start: false,
  });
  assert.equal(made.status, 201, made.text);
  assert.equal(made.job.state, 'succeeded', made.job.message);
  const id = made.vm.id;
  const path = '/api/v1/vms?sort=name';
  assert.deepEqual(listed(await warm(client, path)), [[name, '']]);

  assert.equal((await client.api('PATCH', `/vms/${id}`, { description: '改过了' })).status, 200);
  for (let i = 0; i < WARM; i++)
    assert.deepEqual(listed(await client.get(path)), [[name, '改过了']], `request ${i} after PATCH`);

  assert.equal((await client.api('DELETE', `/vms/${id}?delete_disks=true`)).status, 200);
  for (let i = 0; i < WARM; i++)
    assert.deepEqual(listed(await client.get(path)), [], `request ${i} after DELETE`);
});

test('a row changed behind the portal\'s back (SQL) shows within a few seconds', async () => {
  const { client, user } = await userClient(admin);
  const path = '/api/v1/vms';
  assert.deepEqual(listed(await warm(client, path)), []);
  const name = uniqueName('sql');
  sql(`INSERT INTO vms (uuid, name, domain_name, description, owner_id, state, vcpus, memory_mb,
       disk_gb, arch, template_id) VALUES (UUID(), ${q(name)}, ${q(name)}, 'by sql', ${user.id},
       'stopped', 1, 256, 1, 'x86_64', ${templateId})`);
  try {
    // Every worker must see it: several answers in a row.
    await waitFor(async () => {
      for (let i = 0; i < WARM; i++)
        if (listed(await client.get(path)).length !== 1) return false;
      return true;
    }, 5000);
  } finally {
    sql(`DELETE FROM vms WHERE name = ${q(name)}`);
  }
});

test('the same list for two users and two sessions: each gets its own VMs and form token', async () => {
  const a = await userClient(admin);
  const b = await userClient(admin);
  const name = uniqueName('mine');
  sql(`INSERT INTO vms (uuid, name, domain_name, description, owner_id, state, vcpus, memory_mb,
       disk_gb, arch, template_id) VALUES (UUID(), ${q(name)}, ${q(name)}, '', ${a.user.id},
       'stopped', 1, 256, 1, 'x86_64', ${templateId})`);
  try {
    await waitFor(async () => (await a.client.get('/api/v1/vms')).body.data.length === 1, 5000);
    await warm(a.client, '/vms');
    // B asks for the very same URL: none of A's VMs.
    for (let i = 0; i < WARM; i++) {
      assert.deepEqual((await b.client.get('/api/v1/vms')).body.data, []);
      assert.ok(!(await b.client.get('/vms')).text.includes(name), 'B sees A\'s VM on the page');
    }
    // A second session of A: the page's forms carry that session's token.
    const a2 = new Client('a2');
    await a2.loginOk(a.username, a.password);
    const tokens = new Set();
    for (let i = 0; i < WARM; i++) {
      const page = await a2.get('/vms');
      assert.ok(page.text.includes(name));
      tokens.add(formToken(page.text));
    }
    assert.deepEqual([...tokens], [a2.csrf]);
    const first = await a.client.get('/vms');
    assert.equal(formToken(first.text), a.client.csrf);
  } finally {
    sql(`DELETE FROM vms WHERE name = ${q(name)}`);
  }
});

test('after logout, or once the account is disabled, no worker takes the old session', async () => {
  const one = await userClient(admin);
  await warm(one.client, '/api/v1/vms');
  const cookie = one.client.cookieHeader();
  assert.equal((await one.client.logout()).status, 200);
  const stale = new Client('stale', { headers: { Cookie: cookie } });
  for (let i = 0; i < WARM; i++) assertError(await stale.get('/api/v1/vms'), 401, 'unauthenticated');

  const two = await userClient(admin);
  await warm(two.client, '/api/v1/vms');
  assert.equal((await admin.api('PATCH', `/users/${two.user.id}`, { enabled: false })).status, 200);
  for (let i = 0; i < WARM; i++) assertError(await two.client.get('/api/v1/vms'), 401, 'unauthenticated');
});
