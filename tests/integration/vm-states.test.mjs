// Transitional states (issue 15): while an action is under way the VM shows
// starting, stopping, ... in the API and pages, one action at a time; a
// stale mark (a program that died half way) is ignored; a VM being made by
// a full clone is "creating" with its job's progress.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminClient, assertError, createVmDone, dataOf, sql, userClient, waitFor } from './lib.mjs';

let admin;
let a;
let vm;

before(async () => {
  admin = await adminClient();
  a = await userClient(admin);
  const template = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
  // Made to the end: 201 with the VM `creating`, then its creation job.
  const made = await createVmDone(a.client, { name: 'states', template_id: template, vcpus: 1,
    memory_mb: 128, disk_gb: 1, start: false });
  assert.equal(made.status, 201, made.text);
  vm = dataOf(made.res);
  assert.equal(made.job.state, 'succeeded', made.job.message);
  vm = made.vm;
});

after(async () => {
  if (vm) await admin.api('DELETE', `/vms/${vm.id}?delete_disks=true`);
});

test('a VM in transition shows it, is found by it, and takes no other action', async () => {
  assert.equal(vm.state, 'stopped');
  assert.equal(vm.in_transition, false);
  sql(`UPDATE vms SET pending = 'starting', pending_since = UTC_TIMESTAMP() WHERE id = ${vm.id}`);
  const shown = dataOf(await a.client.api('GET', `/vms/${vm.id}`));
  assert.equal(shown.state, 'starting');
  assert.equal(shown.settled_state, 'stopped');
  assert.equal(shown.in_transition, true);
  const ids = async (state) => dataOf(await a.client.api('GET', `/vms?state=${state}`)).map((v) => v.id);
  assert.deepEqual(await ids('starting'), [vm.id]);
  assert.deepEqual(await ids('stopped'), []);
  assertError(await a.client.api('POST', `/vms/${vm.id}/start`, {}), 409, 'wrong_state');
  const page = await a.client.get(`/vms/${vm.id}`);
  assert.match(page.text, /<span class="state state-starting">Starting<\/span>/);
  assert.match(page.text, /id="under-way"/);
  assert.doesNotMatch(page.text, /id="start"/);

  // Ten minutes on, the mark is stale: the settled state is back.
  sql(`UPDATE vms SET pending_since = UTC_TIMESTAMP() - INTERVAL 11 MINUTE WHERE id = ${vm.id}`);
  assert.equal(dataOf(await a.client.api('GET', `/vms/${vm.id}`)).state, 'stopped');
  // (The list may be replayed for up to a second: SQL by hand moves no counter.)
  assert.ok(await waitFor(async () => (await ids('stopped')).includes(vm.id), 3000, 100));
});

test('an action clears its mark when it is done, whether it worked or not', async () => {
  sql(`UPDATE vms SET pending = NULL, pending_since = NULL WHERE id = ${vm.id}`);
  const started = await a.client.api('POST', `/vms/${vm.id}/start`, {});
  assert.equal(started.status, 200, started.text);
  assert.equal(dataOf(started).state, 'running');
  assert.deepEqual(sql(`SELECT pending FROM vms WHERE id = ${vm.id}`), [['NULL']]);
  // Refused by the helper (a running VM cannot be woken up): cleared too.
  assertError(await a.client.api('POST', `/vms/${vm.id}/wakeup`, {}), 409, 'wrong_state');
  assert.deepEqual(sql(`SELECT pending FROM vms WHERE id = ${vm.id}`), [['NULL']]);
  assert.equal((await a.client.api('POST', `/vms/${vm.id}/stop`, { force: true })).status, 200);
  assertError(await a.client.api('GET', '/vms?state=sleeping'), 400, 'invalid_parameter');
});
