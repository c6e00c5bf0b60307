// Event alerts (issue 11): a VM that crashes (its QEMU killed, its guest
// kernel panicking through the pvpanic device), a guest
// that powers itself off (`poweroff -f` in its serial shell) and a failed
// job are alerts of the rules watching them, told to a real webhook once
// per event and resolved when the VM runs again; a stop the portal asks
// for is no alert. A rule's action (restart, suspend) really happens to
// the guest and is audited. A pool low on space and a host whose samples stopped
// are rules on the host. The helper records what libvirt reports
// (helper/lifecycle.c); vmm-scheduler turns it into alerts
// (scheduler/events.c).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import {
  adminClient, assertError, createVmDone, dataOf, sql, startHelper, STATE, stopHelper, userClient,
  waitFor,
} from './lib.mjs';
import { guestShell } from './guest-shell.mjs';
import { webhookReceiver } from './receivers.mjs';

const BOOT_DEADLINE_MS = 180_000;
const KEY = 'events-key';
const INTERVAL_S = Number(process.env.VMM_METRICS_INTERVAL_S || 10);

let admin;
let a;
let hook;
let channel;
const cleanup = [];

before(async () => {
  admin = await adminClient();
  a = await userClient(admin);
  hook = await webhookReceiver(KEY);
  channel = dataOf(await a.client.api('POST', '/notification-channels', {
    name: 'events hook', type: 'webhook', config: { url: hook.url, secret: KEY },
  }));
});

after(async () => {
  for (const id of cleanup) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
  await hook?.close();
});

const rule = async (client, fields) => dataOf(await client.api('POST', '/alert-rules', fields));
const hookOf = (ruleId) => hook.messages.filter((m) => m.alert?.rule_id === ruleId);

describe('VM events', () => {
  let vm;
  let domain;
  const serial = () => {
    const log = `${STATE}/pool/consoles/${domain}.log`;
    return existsSync(log) ? readFileSync(log, 'utf8') : '';
  };
  const READY = 'VMM-TEST: ready';
  // A boot is seen on the serial console: "ready" after a mark typed
  // before, or with the mark gone (a new QEMU starts a new log).
  let marks = 0;
  const mark = async () => {
    marks += 1;
    // Quoted apart, so the echo of the typed line is not the mark.
    await guestShell(domain, `echo MA""RK-${marks}-`);
    return `MARK-${marks}-`;
  };
  const bootedSince = (m) => {
    const text = serial();
    const at = text.lastIndexOf(m);
    return at < 0 ? text.includes(READY) : text.indexOf(READY, at) > 0;
  };
  const state = async () => dataOf(await a.client.api('GET', `/vms/${vm.id}`)).state;
  const startAndBoot = async (m) => {
    dataOf(await a.client.api('POST', `/vms/${vm.id}/start`, {}));
    await waitFor(() => bootedSince(m), BOOT_DEADLINE_MS, 500);
  };
  // A line after which the guest is gone (powered off, panicked), run
  // in the background a moment later so that the shell answers first. A
  // slow console may still lose the answer with the guest: no failure,
  // as what the guest did is checked by what follows.
  const goneAfter = (line) => guestShell(domain, `(sleep 2; ${line}) >/dev/null 2>&1 & echo bye`)
    .catch(() => '');
  let crashed;
  let stopped;

  before(async () => {
    const templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
    const made = await createVmDone(a.client, {
      name: '事件-events', template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1,
    });
    assert.equal(made.status, 201, made.text);
    cleanup.push(dataOf(made.res).id);
    assert.equal(made.job.state, 'succeeded', made.job.message);
    vm = made.vm;
    domain = sql(`SELECT domain_name FROM vms WHERE id = ${vm.id}`)[0][0];
    await waitFor(() => serial().includes(READY), BOOT_DEADLINE_MS, 500);
    crashed = await rule(a.client, {
      name: 'crash', metric: 'vm_crashed', target: `vm:${vm.id}`, severity: 'critical',
      action: 'restart', channel_ids: [channel.id],
    });
    stopped = await rule(a.client, {
      name: 'stop', metric: 'vm_stopped', target: `user:${a.user.id}`, repeat_s: 0,
      channel_ids: [channel.id],
    });
    assert.equal(crashed.metric, 'vm_crashed');
  });

  test('a stop the portal asks for is no alert', async () => {
    const m = await mark();
    dataOf(await a.client.api('POST', `/vms/${vm.id}/stop`, { force: true }));
    await waitFor(async () => (await state()) === 'stopped', 30_000, 250);
    await startAndBoot(m);
    // Nothing was recorded for it, so nothing can fire later.
    assert.equal(Number(sql(`SELECT COUNT(*) FROM alert_events WHERE vm_id = ${vm.id}`)[0][0]), 0);
    assert.equal(hookOf(stopped.id).length, 0);
  });

  test('a guest powering itself off is an unexpected stop: told once, resolved when it runs again', async () => {
    const m = await mark();
    await goneAfter('poweroff -f');
    const alert = await waitFor(async () => dataOf(await a.client.api('GET', `/alerts?vm_id=${vm.id}`))
      .find((x) => x.rule_id === stopped.id && x.state === 'firing'), 60_000, 250);
    assert.equal(alert.kind, 'event');
    assert.equal(alert.metric, 'vm_stopped');
    assert.match(alert.message, /powered off/);
    const fired = await waitFor(() => hookOf(stopped.id).find((m) => m.event === 'firing'), 30_000, 250);
    assert.equal(fired.alert.vm_name, '事件-events');
    assert.equal(fired.alert.kind, 'event');
    assert.equal(await state(), 'stopped');

    await startAndBoot(m);
    await waitFor(async () => dataOf(await a.client.api('GET', `/alerts/${alert.id}`)).state === 'resolved', 30_000, 250);
    await waitFor(() => hookOf(stopped.id).some((m) => m.event === 'resolved'), 30_000, 250);
    assert.deepEqual(hookOf(stopped.id).map((m) => m.event), ['firing', 'resolved']);
    assert.equal(hookOf(crashed.id).length, 0, 'a poweroff is no crash');
  });

  // The audit rows of the alert actions on this VM since id.
  const actions = (sinceId) => sql(`SELECT action, actor_id, result, detail FROM audit_log
    WHERE target_type = 'vm' AND target_id = ${vm.id} AND id > ${sinceId} AND detail LIKE '%"by":"alert"%' ORDER BY id`);
  const lastAudit = () => Number(sql('SELECT IFNULL(MAX(id), 0) FROM audit_log')[0][0]);

  test('a VM whose QEMU dies has crashed: its rule fires once and its action starts it again', async () => {
    const auditFrom = lastAudit();
    const m = await mark();
    const pid = Number(readFileSync(`/run/libvirt/qemu/${domain}.pid`, 'utf8'));
    process.kill(pid, 'SIGKILL');
    const alert = await waitFor(async () => dataOf(await a.client.api('GET', `/alerts?vm_id=${vm.id}`))
      .find((x) => x.rule_id === crashed.id), 60_000, 250);
    assert.equal(alert.severity, 'critical');
    assert.match(alert.message, /QEMU/);
    const fired = await waitFor(() => hookOf(crashed.id).find((m) => m.event === 'firing'), 30_000, 250);
    assert.equal(fired.alert.metric, 'vm_crashed');
    assert.equal(hookOf(stopped.id).filter((m) => m.event === 'firing').length, 1, 'a crash is no second "stop"');

    // The rule's action: the guest boots again (its serial console says
    // so), as the rule's owner, audited; running again resolves the alert.
    await waitFor(() => bootedSince(m), BOOT_DEADLINE_MS, 500);
    assert.equal(await state(), 'running');
    await waitFor(() => hookOf(crashed.id).some((m) => m.event === 'resolved'), 30_000, 250);
    assert.deepEqual(hookOf(crashed.id).map((m) => m.event), ['firing', 'resolved']);
    const [row] = actions(auditFrom);
    assert.deepEqual(row.slice(0, 3), ['vm.start', String(a.user.id), 'success']);
    assert.equal(JSON.parse(row[3]).alert_id, alert.id);
    assert.match(dataOf(await a.client.api('GET', `/alerts/${alert.id}`)).message, /action: start/);
    dataOf(await a.client.api('DELETE', `/alert-rules/${crashed.id}`));
  });

  test('a guest kernel panic is one crash with its reason: told once, the VM stopped saying so, resolved when it runs again', async () => {
    const panicked = await rule(a.client, {
      name: 'panic', metric: 'vm_crashed', target: `vm:${vm.id}`, severity: 'critical',
      channel_ids: [channel.id],
    });
    const stopsBefore = hookOf(stopped.id).length;
    const m = await mark();
    // The guest's pvpanic driver tells QEMU (tests/images/build).
    await goneAfter('echo c > /proc/sysrq-trigger');
    const alert = await waitFor(async () => dataOf(await a.client.api('GET', `/alerts?vm_id=${vm.id}`))
      .find((x) => x.rule_id === panicked.id), 60_000, 250);
    assert.equal(alert.metric, 'vm_crashed');
    assert.match(alert.message, /^guest kernel panic/);
    const fired = await waitFor(() => hookOf(panicked.id).find((x) => x.event === 'firing'), 30_000, 250);
    assert.equal(fired.alert.metric, 'vm_crashed');
    assert.equal(fired.alert.vm_name, '事件-events');
    // on_crash destroys it: the VM is stopped and says why, in English
    // and Chinese, on the API and its page.
    await waitFor(async () => (await state()) === 'stopped', 30_000, 250);
    const shown = dataOf(await a.client.api('GET', `/vms/${vm.id}`));
    assert.deepEqual(shown.stop_reason, { code: 'guest_panic', message: 'Guest kernel panic' });
    const zh = { headers: { 'Accept-Language': 'zh-CN' } };
    assert.equal(dataOf(await a.client.api('GET', `/vms/${vm.id}`, undefined, zh)).stop_reason.message,
      '客户机内核崩溃（kernel panic）');
    const page = await a.client.page(`/vms/${vm.id}`, zh);
    assert.match(page.text, /id="stop-reason" data-code="guest_panic">客户机内核崩溃（kernel panic）</);
    // The serial log keeps the panic (after the mark: this boot's).
    const log = serial();
    assert.ok(log.lastIndexOf(m) >= 0, 'the mark is in the log');
    assert.match(log.slice(log.lastIndexOf(m)), /Kernel panic - not syncing: sysrq triggered crash/);
    // Exactly one crash: the stop after the panic is the same event, and
    // no "stopped" alert either.
    await waitFor(() => Number(sql(`SELECT COUNT(*) FROM alert_events WHERE vm_id = ${vm.id} AND handled_at IS NULL`)[0][0]) === 0, 10_000, 250);
    const crashes = dataOf(await a.client.api('GET', `/alerts?vm_id=${vm.id}`)).filter((x) => x.rule_id === panicked.id);
    assert.equal(crashes.length, 1);
    assert.equal(crashes[0].value, 1, 'one event');
    assert.deepEqual(hookOf(panicked.id).map((x) => x.event), ['firing']);
    assert.equal(hookOf(stopped.id).length, stopsBefore, 'a panic is no "stop"');

    await startAndBoot(m);
    assert.equal(dataOf(await a.client.api('GET', `/vms/${vm.id}`)).stop_reason, null);
    await waitFor(() => hookOf(panicked.id).some((x) => x.event === 'resolved'), 30_000, 250);
    assert.deepEqual(hookOf(panicked.id).map((x) => x.event), ['firing', 'resolved']);
    dataOf(await a.client.api('DELETE', `/alert-rules/${panicked.id}`));
  });

  test('a metric rule\'s actions: restart reboots the guest, suspend suspends it, each audited once', async () => {
    let auditFrom = lastAudit();
    const m = await mark();
    // Memory above 0 %: true at once for a running guest.
    const restart = await rule(a.client, {
      metric: 'memory', target: `vm:${vm.id}`, condition: '>', threshold: 0, action: 'restart',
    });
    await waitFor(() => bootedSince(m), BOOT_DEADLINE_MS, 500);
    await waitFor(() => actions(auditFrom).length === 1, 30_000, 250);
    assert.deepEqual(actions(auditFrom)[0].slice(0, 3), ['vm.restart', String(a.user.id), 'success']);
    dataOf(await a.client.api('DELETE', `/alert-rules/${restart.id}`));
    assert.equal(actions(auditFrom).length, 1, 'once for the alert');

    auditFrom = lastAudit();
    const suspend = await rule(a.client, {
      metric: 'memory', target: `vm:${vm.id}`, condition: '>', threshold: 0, action: 'suspend',
    });
    await waitFor(async () => (await state()) === 'suspended', 60_000, 250);
    dataOf(await a.client.api('DELETE', `/alert-rules/${suspend.id}`));
    assert.deepEqual(actions(auditFrom).map((r) => r.slice(0, 3)), [['vm.suspend', String(a.user.id), 'success']]);
    assert.equal(hookOf(stopped.id).filter((m) => m.event === 'firing').length, 1, 'a suspend is no "stop"');
  });
});

describe('other events', () => {
  test('a failed job fires its owner\'s rule once; others\' rules do not see it', async () => {
    const b = await userClient(admin);
    const mine = await rule(a.client, {
      metric: 'job_failed', target: `user:${a.user.id}`, channel_ids: [channel.id],
    });
    const theirs = await rule(b.client, { metric: 'job_failed', target: `user:${b.user.id}` });
    // Any way a job fails ends in the UPDATE of its state (the trigger of
    // sql/025_events.sql); one that never started is the cheapest.
    sql(`INSERT INTO jobs (kind, owner_id, state) VALUES ('vm.create', ${a.user.id}, 'running')`);
    const jobId = Number(sql('SELECT MAX(id) FROM jobs')[0][0]);
    sql(`UPDATE jobs SET state = 'failed', message = 'no room' WHERE id = ${jobId}`);
    const alert = await waitFor(async () => dataOf(await a.client.api('GET', '/alerts'))
      .find((x) => x.rule_id === mine.id), 30_000, 250);
    assert.equal(alert.object, `job:${jobId}`);
    assert.match(alert.message, /vm\.create: no room/);
    assert.equal(alert.state, 'resolved', 'nothing to wait for');
    await waitFor(() => hookOf(mine.id).length === 1, 30_000, 250);
    assert.equal(hookOf(mine.id)[0].event, 'firing');
    // Handled: a second look changes nothing.
    sql(`UPDATE jobs SET message = 'still no room' WHERE id = ${jobId}`);
    await waitFor(() => Number(sql('SELECT COUNT(*) FROM alert_events WHERE handled_at IS NULL')[0][0]) === 0, 10_000, 250);
    assert.equal(dataOf(await a.client.api('GET', '/alerts')).filter((x) => x.rule_id === mine.id).length, 1);
    assert.equal(dataOf(await b.client.api('GET', '/alerts')).filter((x) => x.rule_id === theirs.id).length, 0);
  });

  test('a pool low on space fires on the host and resolves', async () => {
    const pool = await waitFor(() => sql('SELECT pool, 100 * available_bytes / capacity_bytes FROM storage_pool_space')[0], 30_000, 250);
    const r = await rule(admin, {
      name: 'pool', metric: 'pool_free', target: 'host', condition: '<', threshold: 100,
    });
    const alert = await waitFor(async () => dataOf(await admin.api('GET', '/alerts?state=firing'))
      .find((x) => x.rule_id === r.id && x.object === `pool:${pool[0]}`), 30_000, 250);
    assert.ok(Math.abs(alert.value - Number(pool[1])) < 1, `free ${alert.value} %`);
    dataOf(await admin.api('PATCH', `/alert-rules/${r.id}`, { threshold: 0 }));
    await waitFor(async () => dataOf(await admin.api('GET', `/alerts/${alert.id}`)).state === 'resolved', 30_000, 250);
    dataOf(await admin.api('DELETE', `/alert-rules/${r.id}`));
  });

  test('what each kind may watch', async () => {
    assertError(await a.client.api('POST', '/alert-rules', { metric: 'pool_free', target: `user:${a.user.id}`, condition: '<', threshold: 10 }), 422, 'invalid_target');
    assertError(await a.client.api('POST', '/alert-rules', { metric: 'vm_crashed', target: 'host' }), 403, 'forbidden');
    assertError(await admin.api('POST', '/alert-rules', { metric: 'host_unreachable', target: `user:${a.user.id}`, condition: '>', threshold: 30 }), 422, 'invalid_target');
    assertError(await admin.api('POST', '/alert-rules', { metric: 'pool_free', target: 'host', condition: '<', threshold: 150 }), 422, 'out_of_range');
  });

  test('a host whose samples stop is unreachable until they come back', async () => {
    const r = await rule(admin, {
      metric: 'host_unreachable', target: 'host', condition: '>', threshold: 4 * INTERVAL_S,
      channel_ids: [],
    });
    await stopHelper();
    let alert;
    try {
      alert = await waitFor(async () => dataOf(await admin.api('GET', '/alerts?state=firing'))
        .find((x) => x.rule_id === r.id), 30 * INTERVAL_S * 1000, 250);
      assert.ok(alert.value > 4 * INTERVAL_S, `${alert.value} s without samples`);
    } finally {
      startHelper();
    }
    await waitFor(async () => dataOf(await admin.api('GET', `/alerts/${alert.id}`)).state === 'resolved', 60_000, 250);
    dataOf(await admin.api('DELETE', `/alert-rules/${r.id}`));
  });
});
