// A VNC client through the portal's console websocket, for the suites
// that open consoles (console.test.mjs, migrate.test.mjs): the websocket
// with the client's cookies, an exact-bytes reader, and the RFB 3.8
// handshake (VNC auth with DES from noVNC's own module) up to ServerInit.
import assert from 'node:assert/strict';
import WebSocket from 'ws';
// noVNC's package exports only rfb.js; its DES (VNC's variant) is read by path.
import { DESECBCipher } from '../../node_modules/@novnc/novnc/core/crypto/des.js';
import { BASE } from './lib.mjs';

const WS_BASE = BASE.replace(/^http/, 'ws');

/** Opens the ticket's ws_path with its subprotocols (the token rides in
 * Sec-WebSocket-Protocol) and the client's cookies; resolves { ws, rd } on
 * 101 or { status, body } when nginx refuses the upgrade. The reader
 * listens from the start: QEMU's first bytes may come with the 101 itself. */
export function openConsole(client, ticket, headers = {}) {
  const { ws_path: wsPath, ws_protocols: protocols = ['binary'] } = ticket;
  return new Promise((resolve, reject) => {
    const cookie = client ? client.cookieHeader() : '';
    const ws = new WebSocket(`${WS_BASE}${wsPath}`, protocols, {
      headers: { ...(cookie ? { Cookie: cookie } : {}), ...headers },
      handshakeTimeout: 15000,
    });
    ws.binaryType = 'nodebuffer';
    const rd = new Reader(ws);
    ws.once('open', () => resolve({ ws, rd }));
    ws.once('unexpected-response', (req, res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let body = null;
        try { body = JSON.parse(text); } catch { body = null; }
        resolve({ status: res.statusCode, body, text });
      });
    });
    ws.once('error', reject);
  });
}

/** Reads exact byte counts from a websocket's binary stream. */
class Reader {
  constructor(ws) {
    this.buf = Buffer.alloc(0);
    this.waiters = [];
    this.closed = false;
    ws.on('message', (data) => {
      this.buf = Buffer.concat([this.buf, data]);
      this.wake();
    });
    ws.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  async read(n, deadlineMs = 20000) {
    const end = Date.now() + deadlineMs;
    while (this.buf.length < n) {
      if (this.closed) throw new Error(`connection closed waiting for ${n} bytes`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no ${n} bytes within ${deadlineMs} ms`);
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
}

/** The RFB 3.8 handshake up to ServerInit; returns what the server said. */
export async function rfbHandshake({ ws, rd }, password) {
  const version = (await rd.read(12)).toString('latin1');
  assert.equal(version, 'RFB 003.008\n');
  ws.send(Buffer.from('RFB 003.008\n', 'latin1'));
  const n = (await rd.read(1))[0];
  assert.ok(n > 0, 'the server offers security types');
  const types = [...(await rd.read(n))];
  if (types.includes(2)) {
    ws.send(Buffer.from([2]));
    const challenge = await rd.read(16);
    const key = [...Buffer.from(password, 'latin1')];
    const cipher = DESECBCipher.importKey(key, { name: 'DES-ECB' }, false, ['encrypt']);
    ws.send(Buffer.from(cipher.encrypt({ name: 'DES-ECB' }, challenge)));
  } else {
    assert.ok(types.includes(1), `unexpected security types ${types}`);
    ws.send(Buffer.from([1]));
  }
  const result = (await rd.read(4)).readUInt32BE(0);
  assert.equal(result, 0, 'VNC authentication succeeds');
  ws.send(Buffer.from([1])); // ClientInit: shared
  const init = await rd.read(24);
  const width = init.readUInt16BE(0);
  const height = init.readUInt16BE(2);
  const nameLength = init.readUInt32BE(20);
  const name = (await rd.read(nameLength)).toString('utf8');
  return { types, width, height, name };
}

export function closeWs(ws) {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    ws.once('close', resolve);
    ws.close();
  });
}
