// Port forwards reached from another machine (issue 17): a client in a
// network namespace of its own (a veth pair on a free /24, routed through
// the host like any machine of the LAN) connects to the host's forwarded
// port and reaches busybox `nc -l` in a booted guest. libvirt's NAT
// network rejects new connections into its subnet (LIBVIRT_FWI); the
// helper's rule in LIBVIRT_FWX lets exactly the forwarded flow through,
// and comes back when the network restarts (virsh net-destroy/net-start
// of this suite's own network).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  adminClient, createVmDone, dataOf, freeBlocks, q, serialLog, sql, userClient, virsh, domainOf, waitFor,
} from './lib.mjs';
import { guestShell, guestShellUntil } from './guest-shell.mjs';

const BOOT_DEADLINE_MS = 180_000;
const TAG = process.pid.toString(36);
const NET_NAME = `pfo-${TAG}`;
const NS = `vmmpf-${TAG}`;
const VETH_HOST = `vpf${TAG}h`;
const VETH_NS = `vpf${TAG}n`;
const HOST_PORT = 10000 + ((process.pid + 4321) % 9000);
const [NET, LAN] = freeBlocks(2);

const run = (cmd, ...args) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const quiet = (cmd, ...args) => { try { run(cmd, ...args); } catch { /* not there */ } };

// What a TCP client in the namespace reads from host:port before the peer
// closes, or the error's name (ConnectionRefusedError: the REJECT's ICMP).
function readFromOutside(host, port) {
  const client = 'import socket,sys\n' +
    'try:\n' +
    ' s=socket.create_connection((sys.argv[1],int(sys.argv[2])),timeout=4)\n' +
    ' d=b""\n' +
    ' while True:\n' +
    '  b=s.recv(256)\n' +
    '  if not b: break\n' +
    '  d+=b\n' +
    ' print(d.decode(errors="replace"))\n' +
    'except Exception as e: print(type(e).__name__)\n';
  return run('ip', 'netns', 'exec', NS, 'python3', '-c', client, host, String(port));
}
const ourRules = () => run('iptables', '-w', '-S', 'LIBVIRT_FWX').split('\n')
  .filter((l) => l.includes('vmm_pf_') && l.includes(`--ctorigdstport ${HOST_PORT} `));

let admin;
let owner;
let network;
let vmId;

before(async () => {
  admin = await adminClient();
  owner = await userClient(admin);
  // The "other machine": its own namespace, its own LAN with the host.
  run('ip', 'netns', 'add', NS);
  run('ip', 'link', 'add', VETH_HOST, 'type', 'veth', 'peer', 'name', VETH_NS);
  run('ip', 'link', 'set', VETH_NS, 'netns', NS);
  run('ip', 'addr', 'add', `${LAN}.1/24`, 'dev', VETH_HOST);
  run('ip', 'link', 'set', VETH_HOST, 'up');
  run('ip', 'netns', 'exec', NS, 'ip', 'addr', 'add', `${LAN}.2/24`, 'dev', VETH_NS);
  run('ip', 'netns', 'exec', NS, 'ip', 'link', 'set', VETH_NS, 'up');
  run('ip', 'netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up');
  run('ip', 'netns', 'exec', NS, 'ip', 'route', 'add', 'default', 'via', `${LAN}.1`);

  let res = await admin.api('POST', '/networks', {
    name: NET_NAME, mode: 'nat', cidr: `${NET}.0/24`, dhcp: { start: `${NET}.100`, end: `${NET}.199` },
  });
  assert.equal(res.status, 201, res.text);
  network = dataOf(res);
  res = await admin.api('POST', '/ip-pools', {
    name: `${NET_NAME}-pool`, network_id: network.id, range_start: `${NET}.10`, range_end: `${NET}.19`,
  });
  assert.equal(res.status, 201, res.text);
});

after(async () => {
  if (vmId) await admin.api('DELETE', `/vms/${vmId}?delete_disks=true`);
  sql(`DELETE FROM ip_pools WHERE name = ${q(`${NET_NAME}-pool`)}`);
  if (network) await admin.api('DELETE', `/networks/${network.id}`);
  quiet('virsh', '-c', 'qemu:///system', 'net-destroy', NET_NAME);
  quiet('virsh', '-c', 'qemu:///system', 'net-undefine', NET_NAME);
  sql(`DELETE FROM networks WHERE name = ${q(NET_NAME)}`);
  quiet('ip', 'link', 'del', VETH_HOST);
  quiet('ip', 'netns', 'del', NS);
});

test('a client on another machine reaches the guest through the forward, also after its network restarts', async () => {
  const templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
  // The guest's only NIC is on the NAT network: its default route leads
  // back through the host, as a server's would.
  const made = await createVmDone(owner.client, {
    name: 'pfo', template_id: templateId, vcpus: 1, memory_mb: 256, disk_gb: 1, network_id: network.id,
  });
  assert.equal(made.status, 201, made.text);
  vmId = dataOf(made.res).id;
  assert.equal(made.job.state, 'succeeded', JSON.stringify(made.job));
  const domain = domainOf(vmId);
  const ip = `${NET}.10`;
  await waitFor(() => serialLog(domain).includes('VMM-TEST: ready'), BOOT_DEADLINE_MS, 500);
  assert.match(serialLog(domain), new RegExp(`VMM-TEST: ip ${ip.replace(/\./g, '\\.')}\\b`));
  const listen = 'pgrep -f "nc -l -p 8080" >/dev/null || (while true; do nc -l -p 8080 -e echo VMM-PFO-OK || sleep 1; done >/dev/null 2>&1 &)';
  await guestShell(domain, listen);
  await guestShellUntil(domain, 'netstat -ltn', (out) => /:8080\b/.test(out));

  // No forward yet: libvirt's NAT refuses the connection from outside.
  const reach = async (deadlineMs = 30_000) => {
    let got = '';
    await waitFor(() => (got = readFromOutside(`${LAN}.1`, HOST_PORT)).includes('VMM-PFO-OK'), deadlineMs, 500);
    return got;
  };
  assert.doesNotMatch(readFromOutside(`${LAN}.1`, HOST_PORT), /VMM-PFO-OK/);

  const res = await owner.client.api('POST', `/vms/${vmId}/port-forwards`, { protocol: 'tcp', host_port: HOST_PORT, guest_port: 8080 });
  assert.equal(res.status, 201, res.text);
  assert.match(await reach(), /VMM-PFO-OK/, `${LAN}.2 reaches the guest through ${LAN}.1:${HOST_PORT}`);
  // Exactly this flow: DNATed from the host's port to the guest's address and port.
  const rules = ourRules();
  assert.equal(rules.length, 1, rules.join('\n'));
  assert.match(rules[0], new RegExp(`-d ${ip.replace(/\./g, '\\.')}/32 -p tcp .*--dport 8080 .*--ctstate DNAT`));

  // Without that rule libvirt's reject wins: the rule is what lets it through.
  run('iptables', '-w', ...rules[0].replace(/^-A /, '-D ').match(/"[^"]*"|\S+/g).map((a) => a.replace(/^"|"$/g, '')));
  assert.equal(ourRules().length, 0);
  await waitFor(() => readFromOutside(`${LAN}.1`, HOST_PORT).includes('ConnectionRefused'), 10_000, 500);

  // The network restarts (libvirt writes its chains anew): the helper
  // hears of it, puts the rule back, and plugs the guest's tap into the
  // new bridge (libvirt 9 leaves running guests off it).
  virsh('net-destroy', NET_NAME);
  virsh('net-start', NET_NAME);
  await waitFor(() => ourRules().length === 1, 15_000, 250);
  const bridge = virsh('net-info', NET_NAME).match(/Bridge:\s+(\S+)/)[1];
  const tap = virsh('domiflist', domain).trim().split('\n')[0].trim().split(/\s+/)[0];
  await waitFor(() => run('ip', '-o', 'link', 'show', 'master', bridge).includes(`${tap}:`), 15_000, 250);
  assert.match(await reach(60_000), /VMM-PFO-OK/, 'after virsh net-destroy/net-start');

  // Removed: nothing of ours is left in libvirt's chain.
  const forward = dataOf(res).port_forwards[0];
  assert.equal((await owner.client.api('DELETE', `/vms/${vmId}/port-forwards/${forward.id}`)).status, 200);
  assert.equal(ourRules().length, 0);
  assert.doesNotMatch(readFromOutside(`${LAN}.1`, HOST_PORT), /VMM-PFO-OK/);
});
