// What the browser benchmarks share: a TCP proxy that counts the bytes.
import { createServer, connect } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of url that counts the bytes both
 * ways: { base (its URL), counted: { bytes }, close() }.
 */
export async function countingProxy(url) {
  const target = new URL(url);
  const counted = { bytes: 0 };
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 80), target.hostname);
    client.on('data', (d) => { counted.bytes += d.length; });
    upstream.on('data', (d) => { counted.bytes += d.length; });
    client.pipe(upstream).pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); };
    for (const s of [client, upstream]) { s.on('error', end); s.on('close', end); }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${server.address().port}`, counted, close: () => server.close() };
}
