// Snapshot schedules, run by vmm-scheduler (task snapshots.schedule) through
// the helper, against a test clock: the file [scheduler] clock_file names
// (tools/dev test sets it; it holds the unix time the schedules see).
// Slots fire at the right minute and once each, slots missed while "down"
// run once, pruning keeps N of the schedule's own snapshots and never
// touches a pinned one or one made by hand; bad schedules are refused.
// Backup retention tiers (keep last, daily) over slots a day apart; a
// backup slot that meets a backup under way runs once that one ends.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { adminClient, assertError, createVmDone, dataOf, sql, STATE, userClient, waitFor } from './lib.mjs';

const CLOCK = `${STATE}/scheduler-clock`;
const setClock = (t) => writeFileSync(CLOCK, `${t}\n`, { mode: 0o644 });
const stamp = (t) => new Date(t * 1000).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 13);

let admin;
let vmId;
let backupVmId;
let tiersVmId;
let deferredVmId;
before(async () => {
  admin = await adminClient();
  // Check the schedules every second (the default is a minute).
  sql("UPDATE scheduler_tasks SET interval_s = 1 WHERE name IN ('snapshots.schedule', 'backups.schedule')");
});
after(async () => {
  rmSync(CLOCK, { force: true });
  sql("UPDATE scheduler_tasks SET interval_s = 60 WHERE name IN ('snapshots.schedule', 'backups.schedule')");
  for (const id of [vmId, backupVmId, tiersVmId, deferredVmId]) if (id) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
});

const names = (client) => client.api('GET', `/vms/${vmId}/snapshots`).then((r) => dataOf(r));
const scheduled = async (client) => (await names(client)).filter((s) => s.origin === 'schedule').map((s) => s.name).sort();

test('a schedule fires at its minute, once a slot, once after missed slots, and prunes only its own', async () => {
  const { client } = await userClient(admin);
  const templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
  const made = await createVmDone(client, {
    name: 'scheduled', template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1, start: false,
  });
  assert.equal(made.status, 201, made.text);
  vmId = dataOf(made.res).id;
  assert.equal(made.job.state, 'succeeded', JSON.stringify(made.job));

  // Bad input first.
  assertError(await client.api('PUT', `/vms/${vmId}/snapshot-policy`, { schedule: 'every day', keep: 2 }), 400, 'invalid_schedule');
  assertError(await client.api('PUT', `/vms/${vmId}/snapshot-policy`, { schedule: '61 * * * *', keep: 2 }), 400, 'invalid_schedule');
  assertError(await client.api('PUT', `/vms/${vmId}/snapshot-policy`, { schedule: '*/10 * * * *', keep: 0 }), 400, 'out_of_range');
  assertError(await client.api('PUT', `/vms/${vmId}/snapshot-policy`, { schedule: '*/10 * * * *', keep: 2, naming: 'nightly-snap' }), 400, 'invalid_naming');
  const other = await userClient(admin);
  assertError(await other.client.api('PUT', `/vms/${vmId}/snapshot-policy`, { schedule: '*/10 * * * *', keep: 2 }), 404, 'not_found');

  // The next 10-minute boundary: the clock starts a minute before it.
  const base = Math.ceil(Date.now() / 1000 / 600) * 600;
  setClock(base - 60);
  // The guide's shape (PUT /auto-snapshot), every 10 minutes, keep 2.
  let r = await client.api('PUT', `/vms/${vmId}/auto-snapshot`,
    { enabled: true, schedule: '*/10 * * * *', maxSnapshots: 2, naming: 'auto-{timestamp}', includeMemory: false });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([dataOf(r).keep, dataOf(r).schedule, dataOf(r).enabled], [2, '*/10 * * * *', true]);

  // Nothing is due before the minute (the scheduler ticks every second).
  await waitFor(() => Number(sql("SELECT COUNT(*) FROM scheduler_runs WHERE task = 'snapshots.schedule'")[0][0]) >= 3, 20_000, 200);
  assert.deepEqual(await scheduled(client), []);

  setClock(base + 5);
  await waitFor(async () => (await scheduled(client)).length === 1, 30_000, 250);
  assert.deepEqual(await scheduled(client), [`auto-${stamp(base)}`]);
  // One snapshot a slot, however many ticks see it.
  const ticks = Number(sql("SELECT COUNT(*) FROM scheduler_runs WHERE task = 'snapshots.schedule'")[0][0]);
  await waitFor(() => Number(sql("SELECT COUNT(*) FROM scheduler_runs WHERE task = 'snapshots.schedule'")[0][0]) >= ticks + 3, 20_000, 200);
  assert.equal((await scheduled(client)).length, 1);

  // One made by hand, and the next slot's, pinned.
  dataOf(await client.api('POST', `/vms/${vmId}/snapshots`, { name: 'by-hand' }));
  setClock(base + 600 + 5);
  await waitFor(async () => (await scheduled(client)).length === 2, 30_000, 250);
  const pinned = (await names(client)).find((s) => s.name === `auto-${stamp(base + 600)}`);
  dataOf(await client.api('PATCH', `/vms/${vmId}/snapshots/${pinned.id}`, { pinned: true }));

  // Down for five slots: one run, for the latest. Unpinned ones of the
  // schedule are then the first and this: keep 2 prunes nothing.
  setClock(base + 3600 + 5);
  await waitFor(async () => (await scheduled(client)).length === 3, 30_000, 250);
  assert.deepEqual(await scheduled(client),
    [`auto-${stamp(base)}`, `auto-${stamp(base + 600)}`, `auto-${stamp(base + 3600)}`].sort());

  // The next slot: the oldest unpinned one of the schedule goes.
  setClock(base + 4200 + 5);
  await waitFor(async () => (await scheduled(client)).includes(`auto-${stamp(base + 4200)}`), 30_000, 250);
  await waitFor(async () => (await scheduled(client)).length === 3, 10_000, 250);
  assert.deepEqual(await scheduled(client),
    [`auto-${stamp(base + 600)}`, `auto-${stamp(base + 3600)}`, `auto-${stamp(base + 4200)}`].sort());
  const all = await names(client);
  assert.ok(all.some((s) => s.name === 'by-hand' && s.origin === 'user'), 'the one made by hand stays');
  assert.ok(all.find((s) => s.name === `auto-${stamp(base + 600)}`).pinned);

  // The policy reads back, with its last slot and no error.
  const policy = dataOf(await client.api('GET', `/vms/${vmId}/snapshot-policy`));
  assert.equal(policy.last_error, '');
  assert.equal(policy.last_run_slot, new Date((base + 4200) * 1000).toISOString().replace(/\.\d+Z$/, 'Z'));

  // The page shows the schedule and saves it from its form.
  const page = await client.request('GET', `/vms/${vmId}/snapshots`);
  assert.match(page.text, /id="snapshot-policy-form"/);
  assert.match(page.text, /value="\*\/10 \* \* \* \*"/);
  const form = await client.request('POST', `/vms/${vmId}/snapshot-policy`,
    { form: { csrf_token: client.csrf, schedule: '0 3 * * *', keep: '4', naming: 'nightly-{timestamp}' }, csrf: false });
  assert.equal(form.status, 303, form.text.slice(0, 200));
  const saved = dataOf(await client.api('GET', `/vms/${vmId}/snapshot-policy`));
  assert.deepEqual([saved.enabled, saved.schedule, saved.keep, saved.naming], [false, '0 3 * * *', 4, 'nightly-{timestamp}']);

  // Disabled: no more runs.
  dataOf(await client.api('PUT', `/vms/${vmId}/snapshot-policy`, { enabled: false, schedule: '*/10 * * * *', keep: 2 }));
  setClock(base + 4800 + 5);
  const t = Number(sql("SELECT COUNT(*) FROM scheduler_runs WHERE task = 'snapshots.schedule'")[0][0]);
  await waitFor(() => Number(sql("SELECT COUNT(*) FROM scheduler_runs WHERE task = 'snapshots.schedule'")[0][0]) >= t + 3, 20_000, 200);
  assert.ok(!(await scheduled(client)).includes(`auto-${stamp(base + 4800)}`));
});

test('a backup schedule: a full backup, incrementals up to full_every, and only keep chains', async () => {
  const { client } = await userClient(admin);
  const templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
  const made = await createVmDone(client, {
    name: '定时备份', template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1, start: false,
  });
  assert.equal(made.status, 201, made.text);
  backupVmId = dataOf(made.res).id;
  assertError(await client.api('PUT', `/vms/${backupVmId}/backup-policy`, { schedule: '*/10 * * *', keep: 1 }), 400, 'invalid_schedule');
  const auto = async () => dataOf(await client.api('GET', `/vms/${backupVmId}/backups`))
    .filter((b) => b.origin === 'schedule' && b.status === 'ready').map((b) => b.mode).reverse();

  // Past every slot the other test used; the first tick runs the latest
  // slot since the policy was set, once.
  const t0 = Math.ceil(Date.now() / 1000 / 600) * 600 + 3 * 3600;
  setClock(t0 + 5);
  const r = await client.api('PUT', `/vms/${backupVmId}/backup-policy`, { schedule: '*/10 * * * *', keep: 1, full_every: 2 });
  assert.equal(r.status, 200, r.text);
  await waitFor(async () => (await auto()).length === 1, 90_000, 500);
  assert.deepEqual(await auto(), ['full']);
  setClock(t0 + 600 + 5);
  await waitFor(async () => (await auto()).length === 2, 90_000, 500);
  assert.deepEqual(await auto(), ['full', 'incremental']);
  // The next is a full one; the chain before it goes (keep 1).
  setClock(t0 + 1200 + 5);
  await waitFor(async () => {
    const a = await auto();
    return a.length === 1 && Number(sql(`SELECT COUNT(*) FROM backups WHERE vm_id = ${backupVmId}`)[0][0]) === 1;
  }, 90_000, 500);
  assert.deepEqual(await auto(), ['full']);
  const policy = dataOf(await client.api('GET', `/vms/${backupVmId}/backup-policy`));
  assert.equal(policy.last_error, '');
  assert.equal(policy.last_run_slot, new Date((t0 + 1200) * 1000).toISOString().replace(/\.\d+Z$/, 'Z'));
});

test('backup retention tiers: keep the last one and the newest of each of the last two days', async () => {
  const { client } = await userClient(admin);
  const templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
  const made = await createVmDone(client, {
    name: 'retention', template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1, start: false,
  });
  assert.equal(made.status, 201, made.text);
  tiersVmId = dataOf(made.res).id;
  // The other test's schedule would fire at every move of the clock.
  if (backupVmId) sql(`UPDATE backup_policies SET enabled = 0 WHERE vm_id = ${backupVmId}`);
  assertError(await client.api('PUT', `/vms/${tiersVmId}/backup-policy`, { schedule: '0 3 * * *', keep: 1, keep_daily: -1 }), 400, 'out_of_range');

  // Twice a day (03:00 and 15:00), every one a full backup, on days far past the other tests' slots.
  const day = Math.ceil(Date.now() / 1000 / 86400) * 86400 + 10 * 86400;
  const slots = [day + 3 * 3600, day + 15 * 3600, day + 86400 + 3 * 3600, day + 86400 + 15 * 3600, day + 2 * 86400 + 3 * 3600];
  // The clock at the real time first: no slot lies between it and when the policy is set.
  setClock(Math.floor(Date.now() / 1000));
  const r = await client.api('PUT', `/vms/${tiersVmId}/backup-policy`, { schedule: '0 3,15 * * *', keep: 1, keep_daily: 2, full_every: 1 });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([dataOf(r).keep, dataOf(r).keep_daily, dataOf(r).keep_weekly, dataOf(r).keep_monthly], [1, 2, 0, 0]);
  // A backup made by hand is never the schedule's to prune.
  const hand = await client.api('POST', `/vms/${tiersVmId}/backups`, { mode: 'full' });
  assert.equal(hand.status, 202, hand.text);
  const handId = dataOf(hand).id;
  await waitFor(() => sql(`SELECT status FROM backups WHERE id = ${handId}`)[0][0] === 'ready', 90_000, 500);

  const kept = () => sql(`SELECT TIMESTAMPDIFF(SECOND, '1970-01-01', slot_at) FROM backups WHERE vm_id = ${tiersVmId} AND origin = 'schedule' AND status = 'ready' ORDER BY slot_at`).map((x) => Number(x[0]));
  // Each day's older one goes once a newer one of the day is kept (keep_daily counts days, not backups).
  const expect = [[0], [1], [1, 2], [1, 3], [1, 3, 4]];
  for (let i = 0; i < slots.length; i++) {
    setClock(slots[i] + 5);
    const want = expect[i].map((k) => slots[k]);
    await waitFor(() => JSON.stringify(kept()) === JSON.stringify(want), 90_000, 500)
      .catch(() => assert.deepEqual(kept(), want, `after slot ${i}`));
  }
  // Day 3: the last one; day 2: its newest (15:00, not 03:00); day 1: its newest; the hand-made one stays.
  assert.deepEqual(kept(), [slots[1], slots[3], slots[4]]);
  assert.equal(sql(`SELECT status FROM backups WHERE id = ${handId}`)[0][0], 'ready');
  assert.equal(dataOf(await client.api('GET', `/vms/${tiersVmId}/backup-policy`)).last_error, '');
});

test('a backup slot that meets a backup under way runs once that one ends, once for all slots missed', async () => {
  const { client, user } = await userClient(admin);
  const templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
  const made = await createVmDone(client, {
    name: 'deferred', template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1, start: false,
  });
  assert.equal(made.status, 201, made.text);
  const id = dataOf(made.res).id;
  deferredVmId = id;
  // The other tests' schedules would fire at every move of the clock.
  sql(`UPDATE backup_policies SET enabled = 0 WHERE vm_id <> ${id}`);
  // Hourly, on days past the other tests' slots.
  const day = Math.ceil(Date.now() / 1000 / 86400) * 86400 + 20 * 86400;
  setClock(Math.floor(Date.now() / 1000));
  const r = await client.api('PUT', `/vms/${id}/backup-policy`, { schedule: '0 * * * *', keep: 5, full_every: 1 });
  assert.equal(r.status, 200, r.text);
  // A backup of the machine under way (the row that holds the VM's one claim).
  const busy = sql(`INSERT INTO backups (vm_id, owner_id, vm_name, mode, status) VALUES (${id}, ${user.id}, 'deferred', 'full', 'creating') RETURNING id`)[0][0];
  const scheduled = () => sql(`SELECT TIMESTAMPDIFF(SECOND, '1970-01-01', slot_at), status FROM backups WHERE vm_id = ${id} AND origin = 'schedule'`);
  const policy = async () => dataOf(await client.api('GET', `/vms/${id}/backup-policy`));
  // Two whole ticks of backups.schedule after now: the clock as set was seen.
  const ticks = async () => {
    const mark = sql('SELECT UTC_TIMESTAMP()')[0][0];
    await waitFor(() => sql(`SELECT last_started_at > '${mark}' + INTERVAL 1 SECOND AND last_finished_at >= last_started_at FROM scheduler_tasks WHERE name = 'backups.schedule'`)[0][0] === '1', 30_000, 250);
  };

  setClock(day + 3600 + 5);
  await waitFor(async () => /under way/.test((await policy()).last_error), 30_000, 250);
  // Two more slots pass while it runs: still none of them taken.
  setClock(day + 3 * 3600 + 5);
  await ticks();
  assert.deepEqual(scheduled(), [], 'no scheduled backup beside the one under way');
  assert.match((await policy()).last_error, /runs once it ends/);

  // It ends: the schedule's backup runs, once, as the latest slot.
  sql(`UPDATE backups SET status = 'failed', finished_at = UTC_TIMESTAMP() WHERE id = ${busy}`);
  await waitFor(() => scheduled().some((b) => b[1] === 'ready'), 120_000, 500);
  await ticks();
  assert.deepEqual(scheduled(), [[String(day + 3 * 3600), 'ready']], 'one backup, for the latest slot');
  const p = await policy();
  assert.equal(p.last_error, '');
  assert.equal(p.last_run_slot, new Date((day + 3 * 3600) * 1000).toISOString().replace(/\.\d+Z$/, 'Z'));
});
