// Automated installs (issue 18): the `install` object of POST /vms.
// - bad input (not YAML, not #cloud-config, keys that are not keys) is a
//   clear 4xx and nothing is made;
// - the rendered user-data passes `cloud-init schema --config-file`, the
//   preseed `debconf-set-selections --checkonly`, the ks.cfg a parser of
//   its commands (ks-parse.py; Debian has no pykickstart), all with names
//   and keys of unusual characters;
// - a booted guest reads its cidata seed (`VMM-TEST: seed <hostname>`,
//   `VMM-TEST: seed ip <address>` from network-config), whose static
//   address is the one its IP pool allocated; the seed is gone at the
//   next boot;
// - an ISO install shows `installing`; when the installer powers off, the
//   ISO and seed are ejected and the VM starts from its disk.
// Names carry this run's prefix; after() removes what a failed test left.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  adminClient, assertError, createVmDone, dataOf, domainOf, freeBlocks, jobEnded, q, serialLog, sql,
  userClient, virsh, waitFor,
} from './lib.mjs';

const PREFIX = `t18i-${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const [NET] = freeBlocks(1);
const BOOT_DEADLINE_MS = 150_000;
const KS_PARSE = new URL('./ks-parse.py', import.meta.url).pathname;

const vmCount = () => Number(sql('SELECT COUNT(*) FROM vms')[0][0]);
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let admin;
let user;
let templateId;
let isoId;
let network;
let pool;
let work;
const vms = [];
const keys = {};

// A key pair made here, its comment with characters that need quoting in
// YAML, shell and kickstart alike.
function sshKey(type, comment) {
  const file = join(work, `key-${type}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', comment, '-f', file]);
  return readFileSync(`${file}.pub`, 'utf8').trim();
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'vmm-installs-'));
  admin = await adminClient();
  user = await userClient(admin, {});
  templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
  isoId = Number(sql("SELECT id FROM isos WHERE name = 'Demo installer'")[0][0]);
  sql(`INSERT INTO quotas (user_id, max_vms, max_vcpus, max_memory_mb, max_disk_gb) VALUES (${user.user.id}, 20, 20, 8192, 50)`);
  keys.ed25519 = sshKey('ed25519', `测试 "quoted" 'single' #hash: $HOME \`x\` a\\b`);
  keys.rsa = sshKey('rsa', 'ops@例え.jp: yes, no & null');
  const res = await admin.api('POST', '/networks', {
    name: `${PREFIX}-net`, mode: 'isolated', cidr: `${NET}.0/24`,
    dhcp: { start: `${NET}.100`, end: `${NET}.199` },
  });
  assert.equal(res.status, 201, res.text);
  network = dataOf(res);
  const made = await admin.api('POST', '/ip-pools', {
    name: `${PREFIX}-pool`, network_id: network.id, range_start: `${NET}.20`, range_end: `${NET}.29`,
    dns: [`${NET}.1`],
  });
  assert.equal(made.status, 201, made.text);
  pool = dataOf(made);
});

after(async () => {
  for (const id of vms) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
  if (pool) await admin.api('DELETE', `/ip-pools/${pool.id}`);
  if (network) await admin.api('DELETE', `/networks/${network.id}`);
  try { virsh('net-destroy', `${PREFIX}-net`); } catch { /* not running or gone */ }
  try { virsh('net-undefine', `${PREFIX}-net`); } catch { /* gone */ }
  sql(`DELETE FROM networks WHERE name LIKE ${q(`${PREFIX}%`)}`);
  if (work) rmSync(work, { recursive: true, force: true });
});

async function createVm(fields) {
  const made = await createVmDone(user.client, {
    name: '测试-install', vcpus: 1, memory_mb: 128, disk_gb: 1, start: false, ...fields,
  });
  if (made.status === 201) {
    vms.push(dataOf(made.res).id);
    assert.equal(made.job.state, 'succeeded', JSON.stringify(made.job));
  }
  return made;
}
async function installOf(id) {
  const res = await user.client.api('GET', `/vms/${id}/install`);
  assert.equal(res.status, 200, res.text);
  return dataOf(res);
}
function checkFile(name, text, program, args) {
  const file = join(work, name);
  writeFileSync(file, text);
  return execFileSync(program, [...args, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const FORM = {
  hostname: 'web-01.example',
  user: 'ops_user-1',
  password: 'pä$$ w0rd "\'\\ #:',
  packages: ['curl', 'vim-tiny'],
  commands: ['echo "hello: world" > /tmp/x # not a comment', "printf '%s\\n' 测试 >> /tmp/y"],
};

describe('install input', () => {
  test('bad input is a 4xx and makes nothing', async () => {
    const before = vmCount();
    const cases = [
      [{ type: 'cloud-init', hostname: 'h', user_data: '#cloud-config\npackages: [a, b\n' }, 422, 'invalid_yaml'],
      [{ type: 'cloud-init', hostname: 'h', user_data: 'packages: [curl]\n' }, 422, 'not_cloud_config'],
      [{ type: 'cloud-init', hostname: 'h', user_data: '#!/bin/sh\necho hi\n' }, 422, 'not_cloud_config'],
      [{ type: 'cloud-init', hostname: 'h', user_data: '#cloud-config\n- a list\n' }, 422, 'invalid_cloud_config'],
      [{ type: 'cloud-init', hostname: 'h', user: 'ops', user_data: '#cloud-config\nusers: nobody\n' }, 422, 'invalid_cloud_config'],
      [{ type: 'cloud-init', hostname: 'h', ssh_keys: ['ssh-ed25519 AAAAnotakey me@x'] }, 422, 'invalid_ssh_key'],
      [{ type: 'cloud-init', hostname: 'h', ssh_keys: ['not a key at all'] }, 422, 'invalid_ssh_key'],
      [{ type: 'cloud-init', hostname: 'h', ssh_keys: [keys.rsa.replace(/^ssh-rsa/, 'ssh-ed25519')] }, 422, 'invalid_ssh_key'],
      [{ type: 'cloud-init', hostname: 'bad_host!' }, 422, 'invalid_hostname'],
      [{ type: 'cloud-init', hostname: 'h', user: 'Root Beer' }, 422, 'invalid_user'],
      [{ type: 'cloud-init', hostname: 'h', password: 'x' }, 422, 'password_needs_user'],
      [{ type: 'cloud-init', hostname: 'h', packages: ['curl; rm -rf /'] }, 422, 'invalid_package'],
      [{ type: 'kickstart', hostname: 'h', user: 'ops' }, 422, 'install_needs_iso'],
      [{ type: 'windows', hostname: 'h' }, 400, null],
    ];
    for (const [install, status, code] of cases) {
      const res = await user.client.api('POST', '/vms', {
        name: 'bad', template_id: templateId, vcpus: 1, memory_mb: 128, install,
      });
      assert.equal(res.status, status, `${JSON.stringify(install)}: ${res.text}`);
      if (code) assertError(res, status, code);
      assert.match(JSON.parse(res.text).error.field || '', /^install|iso_id/, res.text);
    }
    assert.equal(vmCount(), before, 'no VM row was left');
  });
});

describe('rendered install files', () => {
  test('cloud-init user-data: merged with the user\'s own, valid for cloud-init', async () => {
    const own = [
      '#cloud-config',
      'packages: [htop]',
      'write_files:',
      '  - path: /etc/motd',
      '    content: "欢迎 — welcome: \\"yes\\""',
      'users:',
      '  - default',
      '  - name: backup',
      "    gecos: 'Backup: 备份'",
      'runcmd:',
      '  - [touch, /tmp/own]',
      '',
    ].join('\n');
    const made = await createVm({
      template_id: templateId,
      install: { type: 'cloud-init', ...FORM, ssh_keys: [keys.ed25519, keys.rsa], user_data: own },
    });
    assert.equal(made.status, 201, made.text);
    const install = await installOf(dataOf(made.res).id);
    assert.equal(install.type, 'cloud-init');
    assert.equal(install.seed_state, 'attached');
    const ud = install.user_data;
    assert.ok(ud.startsWith('#cloud-config\n'), ud);
    assert.ok(!ud.includes(FORM.password), 'the password only as its hash');
    const out = checkFile('user-data', ud, 'cloud-init', ['schema', '--config-file']);
    assert.match(out, /Valid cloud-config/, out);
    // The merge, read back by a YAML library (cloud-init's own, PyYAML).
    const parsed = JSON.parse(execFileSync('/usr/bin/python3', ['-c',
      'import sys, yaml, json; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', join(work, 'user-data')],
    { encoding: 'utf8' }));
    assert.equal(parsed.hostname, FORM.hostname);
    assert.deepEqual(parsed.packages, ['htop', ...FORM.packages]);
    assert.deepEqual(parsed.runcmd, [['touch', '/tmp/own'], ...FORM.commands]);
    assert.equal(parsed.write_files[0].content, '欢迎 — welcome: "yes"');
    assert.deepEqual(parsed.users.slice(0, 2), ['default', { name: 'backup', gecos: 'Backup: 备份' }]);
    const ours = parsed.users[2];
    assert.equal(ours.name, FORM.user);
    assert.deepEqual(ours.ssh_authorized_keys, [keys.ed25519, keys.rsa]);
    assert.match(ours.passwd, /^\$6\$/);
    const check = execFileSync('/usr/bin/python3', ['-c',
      'import crypt, sys; print(crypt.crypt(sys.argv[1], sys.argv[2]) == sys.argv[2])', FORM.password, ours.passwd],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    assert.equal(check.trim(), 'True', 'the hash is of the password given');
    // meta-data: instance-id from the UUID and the config's revision.
    const vm = dataOf(await user.client.api('GET', `/vms/${dataOf(made.res).id}`));
    const meta = JSON.parse(execFileSync('/usr/bin/python3', ['-c',
      'import sys, yaml, json; print(json.dumps(yaml.safe_load(sys.argv[1])))', install.meta_data], { encoding: 'utf8' }));
    assert.deepEqual(meta, { 'instance-id': `${vm.uuid}-r1`, 'local-hostname': FORM.hostname });
  });

  test('a user-data of only the header, and no user-data, work too', async () => {
    for (const userData of ['#cloud-config\n', undefined]) {
      const made = await createVm({
        template_id: templateId,
        install: { type: 'cloud-init', hostname: 'plain', ssh_keys: [keys.rsa], ...(userData ? { user_data: userData } : {}) },
      });
      assert.equal(made.status, 201, made.text);
      const ud = (await installOf(dataOf(made.res).id)).user_data;
      assert.match(checkFile('plain-user-data', ud, 'cloud-init', ['schema', '--config-file']), /Valid cloud-config/);
    }
  });

  test('kickstart: every command known, values intact', async () => {
    const made = await createVm({
      iso_id: isoId,
      install: { type: 'kickstart', ...FORM, ssh_keys: [keys.ed25519, keys.rsa] },
    });
    assert.equal(made.status, 201, made.text);
    const install = await installOf(dataOf(made.res).id);
    assert.equal(install.type, 'kickstart');
    const ks = JSON.parse(checkFile('ks.cfg', install.kickstart, '/usr/bin/python3', [KS_PARSE]));
    const opt = (cmd, name) => ks.commands[cmd][0].find((a) => Array.isArray(a) && a[0] === name)?.[1];
    assert.equal(opt('network', '--hostname'), FORM.hostname);
    assert.equal(opt('user', '--name'), FORM.user);
    assert.match(opt('user', '--password'), /^\$6\$/);
    assert.deepEqual(ks.commands.sshkey.map((a) => a[1]), [keys.ed25519, keys.rsa]);
    assert.deepEqual(ks.commands.sshkey.map((a) => a[0]), [['--username', FORM.user], ['--username', FORM.user]]);
    assert.deepEqual(ks.sections['%packages'], ['@core', ...FORM.packages]);
    assert.deepEqual(ks.sections['%post'], FORM.commands);
    assert.ok(ks.commands.poweroff, 'the installer powers off when done');
  });

  test('preseed: debconf-set-selections accepts it; keys and commands intact', async () => {
    const made = await createVm({
      iso_id: isoId,
      install: { type: 'preseed', ...FORM, ssh_keys: [keys.ed25519] },
    });
    assert.equal(made.status, 201, made.text);
    const install = await installOf(dataOf(made.res).id);
    const text = install.preseed;
    checkFile('preseed.cfg', text, 'debconf-set-selections', ['--checkonly']);
    assert.match(text, new RegExp(`^d-i netcfg/get_hostname string ${escape(FORM.hostname)}$`, 'm'));
    assert.match(text, new RegExp(`^d-i passwd/username string ${escape(FORM.user)}$`, 'm'));
    assert.match(text, /^d-i passwd\/user-password-crypted password \$6\$\S+$/m);
    assert.match(text, /^d-i debian-installer\/exit\/poweroff boolean true$/m);
    const late = text.match(/^d-i preseed\/late_command string (.*)$/m)[1];
    const scripts = [...late.matchAll(/echo ([A-Za-z0-9+/=]+) \| base64 -d/g)]
      .map((m) => Buffer.from(m[1], 'base64').toString('utf8'));
    assert.ok(scripts[0].includes(Buffer.from(`${keys.ed25519}\n`).toString('base64')), scripts[0]);
    assert.deepEqual(scripts.slice(1), FORM.commands);
  });
});

describe('saved install configs', () => {
  test('a user saves one (password as a hash), uses it with overrides; admins share', async () => {
    const other = await userClient(admin, {});
    assertError(await user.client.api('POST', '/install-configs', {
      name: 'bad', install: { type: 'cloud-init', hostname: 'h', user_data: 'not: cloud-config' },
    }), 422, 'not_cloud_config');
    assertError(await user.client.api('POST', '/install-configs', {
      name: 'mine', shared: true, install: { type: 'cloud-init', hostname: 'h' },
    }), 403, 'forbidden');
    const res = await user.client.api('POST', '/install-configs', {
      name: '我的 config', install: { type: 'cloud-init', hostname: 'saved-host', user: 'ops', password: FORM.password, ssh_keys: [keys.rsa] },
    });
    assert.equal(res.status, 201, res.text);
    const saved = dataOf(res);
    assert.equal(saved.has_password, true);
    assert.equal(saved.install.password, undefined);
    assert.equal(saved.install.password_hash, undefined, 'not even the hash is shown');
    assert.ok(!JSON.stringify(sql(`SELECT body FROM install_configs WHERE id = ${saved.id}`)).includes(FORM.password));
    assertError(await user.client.api('POST', '/install-configs', {
      name: '我的 config', install: { type: 'cloud-init', hostname: 'h' },
    }), 409, 'name_taken');
    assertError(await other.client.api('GET', `/install-configs/${saved.id}`), 404, 'not_found');
    // Used at create, with the hostname overridden.
    const made = await createVm({ template_id: templateId, install_config_id: saved.id, install: { hostname: 'override-host' } });
    assert.equal(made.status, 201, made.text);
    const ud = (await installOf(dataOf(made.res).id)).user_data;
    assert.match(ud, /hostname: "override-host"/);
    assert.match(ud, /passwd: "\$6\$/);
    assert.match(checkFile('saved-user-data', ud, 'cloud-init', ['schema', '--config-file']), /Valid cloud-config/);
    assertError(await other.client.api('POST', '/vms', {
      name: 'x', template_id: templateId, vcpus: 1, memory_mb: 128, install_config_id: saved.id,
    }), 404, 'unknown_install_config');
    // An admin's shared config is everyone's to use, not to delete.
    const shared = dataOf(await admin.api('POST', '/install-configs', {
      name: `${PREFIX} shared`, shared: true, install: { type: 'kickstart', hostname: 'ks', user: 'ops' },
    }));
    const seen = dataOf(await other.client.api('GET', '/install-configs')).map((c) => c.id);
    assert.ok(seen.includes(shared.id) && !seen.includes(saved.id), JSON.stringify(seen));
    assert.equal((await other.client.api('GET', `/install-configs/${shared.id}`)).status, 200);
    assertError(await other.client.api('DELETE', `/install-configs/${shared.id}`), 404, 'not_found');
    assert.equal((await user.client.api('DELETE', `/install-configs/${saved.id}`)).status, 200);
    assert.equal((await admin.api('DELETE', `/install-configs/${shared.id}`)).status, 200);
    const audit = sql(`SELECT action, result FROM audit_log WHERE action LIKE 'install_config.%' AND target_id = ${saved.id} ORDER BY id`);
    assert.deepEqual(audit.map((a) => a[0]), ['install_config.create', 'install_config.delete']);
  });
});

describe('a booted guest', () => {
  let vm;
  test('reads its seed: the form\'s hostname and its pool address', async () => {
    const made = await createVm({
      name: '种子', template_id: templateId, start: true, network_ids: [network.id],
      install: { type: 'cloud-init', hostname: 'seeded-x', user: 'ops', ssh_keys: [keys.ed25519] },
    });
    assert.equal(made.status, 201, made.text);
    vm = dataOf(made.res);
    const detail = dataOf(await user.client.api('GET', `/vms/${vm.id}`));
    const ip = detail.nics.find((n) => n.network_id === network.id).ip;
    assert.equal(ip, `${NET}.20`);
    const install = await installOf(vm.id);
    assert.match(install.network_config, new RegExp(`"${escape(ip)}/24"`));
    assert.match(install.network_config, new RegExp(`macaddress: "${escape(detail.nics[0].mac)}"`));
    const domain = domainOf(vm.id);
    await waitFor(() => serialLog(domain).includes('VMM-TEST: ready'), BOOT_DEADLINE_MS, 500);
    const log = serialLog(domain);
    assert.match(log, /VMM-TEST: seed seeded-x\r?\n/);
    assert.match(log, new RegExp(`VMM-TEST: seed ip ${escape(ip)}\\r?\\n`));
    // Detached from the definition once it ran; the running guest keeps it.
    await waitFor(() => !virsh('dumpxml', '--inactive', domain).includes('-seed.iso'), 20_000, 200);
    assert.equal((await installOf(vm.id)).seed_state, 'detached');
  });

  test('the seed is gone at the next boot', async () => {
    const domain = domainOf(vm.id);
    const stop = await user.client.api('POST', `/vms/${vm.id}/stop`, { force: true });
    assert.equal(stop.status, 200, stop.text);
    const start = await user.client.api('POST', `/vms/${vm.id}/start`, {});
    assert.equal(start.status, 200, start.text);
    await waitFor(() => serialLog(domain).includes('VMM-TEST: ready'), BOOT_DEADLINE_MS, 500);
    assert.doesNotMatch(serialLog(domain), /VMM-TEST: seed/);
    await user.client.api('POST', `/vms/${vm.id}/stop`, { force: true });
  });
});

describe('an ISO install', () => {
  test('shows installing; when the installer powers off, it starts from its disk', async () => {
    const made = await createVm({
      name: 'installed', iso_id: isoId, start: true,
      install: { type: 'kickstart', hostname: 'ks-host', user: 'ops' },
    });
    assert.equal(made.status, 201, made.text);
    const id = dataOf(made.res).id;
    const domain = domainOf(id);
    assert.equal(made.vm.state, 'installing');
    assert.match(virsh('dumpxml', '--inactive', domain), /-seed\.iso/, 'the OEMDRV seed is in');
    await waitFor(() => serialLog(domain).includes('VMM-TEST: installer boot ok'), BOOT_DEADLINE_MS, 500);
    // The installer writes the disk and powers off; the vm.install job
    // ejects the ISO and seed and starts the machine from its disk.
    const job = await waitFor(() => {
      const rows = sql(`SELECT id FROM jobs WHERE vm_id = ${id} AND kind = 'vm.install'`);
      return rows.length && Number(rows[0][0]);
    }, BOOT_DEADLINE_MS, 500);
    const ended = await jobEnded(user.client, job);
    assert.equal(ended.state, 'succeeded', JSON.stringify(ended));
    const after = dataOf(await user.client.api('GET', `/vms/${id}`));
    assert.equal(after.iso_id, null, 'the ISO is ejected');
    assert.equal(after.state, 'running');
    const xml = virsh('dumpxml', '--inactive', domain);
    assert.doesNotMatch(xml, /-seed\.iso/, 'the seed is ejected');
    assert.doesNotMatch(xml, /<source file='[^']*isos/, 'no ISO in the drive');
    assert.match(xml, /<boot dev='hd'\/>\s*<boot dev='cdrom'\/>/);
    await waitFor(() => serialLog(domain).includes('VMM-TEST: ready'), BOOT_DEADLINE_MS, 500);
    assert.doesNotMatch(serialLog(domain), /installer/, 'booted from the disk');
    assert.equal((await installOf(id)).seed_state, 'detached');
    await user.client.api('POST', `/vms/${id}/stop`, { force: true });
  });
});

describe('a preseeded install', () => {
  test('boots the ISO\'s installer with preseed.cfg in its initrd, then its disk', async () => {
    const made = await createVm({
      name: 'preseeded', iso_id: isoId, start: true,
      install: { type: 'preseed', hostname: 'deb-host', user: 'ops', password: 'pw "x"' },
    });
    assert.equal(made.status, 201, made.text);
    const id = dataOf(made.res).id;
    const domain = domainOf(id);
    // The installer's kernel with the arguments debian-installer needs.
    assert.equal(made.vm.state, 'installing');
    const xml = virsh('dumpxml', '--inactive', domain);
    assert.match(xml, /<cmdline>auto=true priority=critical [^<]*<\/cmdline>/);
    assert.match(xml, /<kernel>[^<]*-vmlinuz<\/kernel>/);
    // The test ISO's install.amd/ initrd finds /preseed.cfg as d-i does
    // (polled often: the log starts anew when the VM boots its disk).
    await waitFor(() => serialLog(domain).includes('VMM-TEST: preseed deb-host'), BOOT_DEADLINE_MS, 100);
    const job = await waitFor(() => {
      const rows = sql(`SELECT id FROM jobs WHERE vm_id = ${id} AND kind = 'vm.install'`);
      return rows.length && Number(rows[0][0]);
    }, BOOT_DEADLINE_MS, 500);
    assert.equal((await jobEnded(user.client, job)).state, 'succeeded');
    const after = virsh('dumpxml', '--inactive', domain);
    assert.doesNotMatch(after, /<kernel>|<cmdline>/, 'boots its disk now');
    await waitFor(() => serialLog(domain).includes('VMM-TEST: ready'), BOOT_DEADLINE_MS, 500);
    assert.doesNotMatch(serialLog(domain), /VMM-TEST: preseed/);
    await user.client.api('POST', `/vms/${id}/stop`, { force: true });
  });
});
