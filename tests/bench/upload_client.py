#!/usr/bin/env python3
"""The client of tests/bench/upload: one HTTP/1.1 connection kept alive, as a
tus client keeps it, the body sent from the file in 1 MiB blocks.

  upload_client.py put URL FILE                       -> seconds
  upload_client.py tus BASE FILE CHUNK_BYTES COOKIE CSRF
      -> seconds job_id import_seconds job_state iso_id

For tus, seconds runs from the creation to the last PATCH's answer, and
import_seconds from that answer (the last byte is in) to the import job's
end, polled every 5 ms on the same connection.
"""
import json
import http.client
import os
import sys
import time
from urllib.parse import urlsplit

BLOCK = 1 << 20


class Slice:
    """A file-like view of length bytes of f from offset."""

    def __init__(self, f, offset, length):
        self.f, self.left = f, length
        f.seek(offset)

    def read(self, n=-1):
        if self.left <= 0:
            return b''
        n = self.left if n < 0 else min(n, self.left)
        data = self.f.read(n)
        self.left -= len(data)
        return data


def connect(url):
    u = urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, blocksize=BLOCK), u


def put(url, path):
    conn, u = connect(url)
    size = os.path.getsize(path)
    t0 = time.monotonic()
    with open(path, 'rb') as f:
        conn.request('PUT', u.path, body=Slice(f, 0, size), headers={'Content-Length': str(size)})
        res = conn.getresponse()
        res.read()
    assert res.status in (201, 204), res.status
    print(f'{time.monotonic() - t0:.6f}')


def tus(base, path, chunk, cookie, csrf):
    conn, u = connect(base)
    size = os.path.getsize(path)
    auth = {'Cookie': cookie, 'X-CSRF-Token': csrf, 'Tus-Resumable': '1.0.0'}
    t0 = time.monotonic()
    conn.request('POST', '/api/v1/uploads', headers={
        **auth, 'Upload-Length': str(size), 'Upload-Metadata': 'kind aXNv,filename YmVuY2guaXNv',
        'Content-Length': '0'})
    res = conn.getresponse()
    res.read()
    assert res.status == 201, res.status
    location = res.getheader('Location')
    job = None
    with open(path, 'rb') as f:
        offset = 0
        while offset < size:
            n = min(chunk, size - offset)
            conn.request('PATCH', location, body=Slice(f, offset, n), headers={
                **auth, 'Upload-Offset': str(offset), 'Content-Length': str(n),
                'Content-Type': 'application/offset+octet-stream'})
            res = conn.getresponse()
            res.read()
            assert res.status == 204, (res.status, offset)
            offset += n
            job = res.getheader('Upload-Job') or job
    t1 = time.monotonic()
    state, iso = wait_job(conn, job, auth)
    print(f'{t1 - t0:.6f} {job} {time.monotonic() - t1:.6f} {state} {iso}')


def wait_job(conn, job, auth):
    """Polls the import job until it ends: (state, iso_id or '')."""
    while True:
        conn.request('GET', f'/api/v1/jobs/{job}', headers=auth)
        res = conn.getresponse()
        body = json.loads(res.read())
        data = body.get('data') or {}
        data = data.get('job', data)
        if data.get('state') not in ('queued', 'running'):
            return data.get('state'), (data.get('result') or {}).get('iso_id', '')
        time.sleep(0.005)


if __name__ == '__main__':
    if sys.argv[1] == 'put':
        put(sys.argv[2], sys.argv[3])
    else:
        tus(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6])
