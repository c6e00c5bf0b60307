// A client of the stack's helper socket speaking the frame protocol
// directly, run by helper-auth.test.mjs as the web programs' user (vmm):
// what any process with that uid could do.
//
//   node helper-client.mjs calls '[{...request}, ...]'  -> replies, one connection each
//   node helper-client.mjs idle '<hex bytes to send>'   -> {closedAfterMs, pingMs, ping}
import { connect } from 'node:net';

const SOCKET = `${process.env.VMM_STATE}/run/vmm-helper.sock`;
const DEADLINE_MS = 15_000;

function frame(obj) {
  const body = Buffer.from(JSON.stringify(obj));
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length);
  return Buffer.concat([header, body]);
}

/** One request on its own connection; resolves to the reply object. */
function call(request) {
  return new Promise((resolve, reject) => {
    const sock = connect(SOCKET);
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error('no reply')), DEADLINE_MS);
    sock.on('connect', () => sock.write(frame(request)));
    sock.on('data', (chunk) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 4 && got.length >= 4 + got.readUInt32BE(0)) {
        clearTimeout(timer);
        sock.destroy();
        resolve(JSON.parse(got.subarray(4, 4 + got.readUInt32BE(0)).toString()));
      }
    });
    sock.on('error', reject);
  });
}

/** Connects, sends these bytes, and measures when the helper hangs up. */
function idle(bytes) {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const sock = connect(SOCKET);
    const timer = setTimeout(() => reject(new Error('never dropped')), DEADLINE_MS);
    sock.on('connect', () => { if (bytes.length) sock.write(bytes); });
    sock.on('data', () => {});
    sock.on('close', () => { clearTimeout(timer); resolve(Date.now() - start); });
    sock.on('error', () => {});
  });
}

const [mode, arg] = process.argv.slice(2);
if (mode === 'calls') {
  const replies = [];
  for (const request of JSON.parse(arg)) replies.push(await call(request));
  process.stdout.write(JSON.stringify(replies));
} else if (mode === 'idle') {
  const dropped = idle(Buffer.from(arg || '', 'hex'));
  // Meanwhile another client is served at once.
  const pingStart = Date.now();
  const ping = await call({ op: 'ping' });
  const pingMs = Date.now() - pingStart;
  const closedAfterMs = await dropped;
  process.stdout.write(JSON.stringify({ closedAfterMs, pingMs, ping }));
} else {
  throw new Error(`unknown mode ${mode}`);
}
