// libvirtd going away and coming back: the portal answers 503 while it is
// gone, and the helper reconnects by itself (lifecycle events included).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { adminClient, assertError, createVmDone, sql, userClient, waitFor } from './lib.mjs';

const virshOk = () => spawnSync('virsh', ['-q', '-c', 'qemu:///system', 'version']).status === 0;

test('libvirtd down: 503 with a clear message; back: everything works again', async () => {
  const admin = await adminClient();
  const { client } = await userClient(admin);
  const templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
  const host = (await client.api('GET', '/host')).body.data;
  const x86 = host.arches.find((a) => a.arch === 'x86_64');
  assert.ok(x86 && x86.machines.includes('q35'), 'guests get the q35 machine');
  assert.ok(['kvm', 'qemu'].includes(host.accel));
  assert.ok(host.cpus >= 1 && host.memory_mb > 0);

  execFileSync('pkill', ['-x', 'libvirtd']);
  try {
    await waitFor(() => !virshOk(), 20_000, 100);
    const host = await client.api('GET', '/host');
    assertError(host, 503, 'libvirt_unavailable');
    // The helper speaks English; a Chinese page gets the message in Chinese.
    const zh = await client.api('GET', '/host', undefined, { headers: { 'Accept-Language': 'zh-CN' } });
    assertError(zh, 503, 'libvirt_unavailable');
    assert.equal(zh.body.error.message, '虚拟化服务暂不可用，请稍后再试。');
    const rowsBefore = sql('SELECT COUNT(*) FROM vms')[0][0];
    const create = await client.api('POST', '/vms', {
      name: 'while-down', template_id: templateId, vcpus: 1, memory_mb: 256, start: false,
    });
    assertError(create, 503, 'libvirt_unavailable');
    assert.equal(sql('SELECT COUNT(*) FROM vms')[0][0], rowsBefore, 'nothing half-made');
  } finally {
    // Back, the way tools/dev starts it on machines without systemd. A
    // start can fail while the old daemon still holds its pid file: try
    // again until it answers.
    await waitFor(() => {
      if (virshOk()) return true;
      spawnSync('/usr/sbin/libvirtd', ['-d'], { stdio: 'ignore' });
      return virshOk();
    }, 60_000, 500);
  }

  await waitFor(async () => (await client.api('GET', '/host')).status === 200, 30_000, 200);
  const made = await createVmDone(client, {
    name: 'after', template_id: templateId, vcpus: 1, memory_mb: 256, start: false,
  });
  assert.equal(made.status, 201, made.text);
  assert.equal(made.job.state, 'succeeded', made.job.message);
  const id = made.vm.id;
  // Lifecycle events flow again: a start made behind the portal's back shows.
  const domain = sql(`SELECT domain_name FROM vms WHERE id = ${id}`)[0][0];
  execFileSync('virsh', ['-q', '-c', 'qemu:///system', 'start', domain]);
  await waitFor(async () => (await client.api('GET', `/vms/${id}`)).body.data.state === 'running',
    10_000, 100);
  assert.equal((await client.api('DELETE', `/vms/${id}?delete_disks=true`)).status, 200);
});
