// One tus-js-client "session" in a process of its own, as a closed tab or
// a killed uploader would be: argv = file, url-storage file, cookie, csrf,
// mode ("stop-after-chunks:N", "resume" or both), metadata as JSON; the chunk
// size from TUS_CHUNK_SIZE (default 1 MiB). Prints one JSON line:
// { url, jobId, offsetAtStart, chunks }.
import { createReadStream } from 'node:fs';
import * as tus from 'tus-js-client';

const [file, storagePath, cookie, csrf, mode, metaJson] = process.argv.slice(2);
const endpoint = `${process.env.VMM_URL}/api/v1/uploads`;
// Modes combine with commas: "resume,stop-after-chunks:3".
const modes = mode.split(',');
const stopMode = modes.find((m) => m.startsWith('stop-after-chunks:'));
const stopAfter = stopMode ? Number(stopMode.split(':')[1]) : Infinity;
let chunks = 0;
let offsetAtStart = null;

const upload = new tus.Upload(createReadStream(file), {
  endpoint,
  headers: { Cookie: cookie, 'X-CSRF-Token': csrf },
  metadata: JSON.parse(metaJson),
  chunkSize: Number(process.env.TUS_CHUNK_SIZE || 1 << 20),
  retryDelays: null,
  urlStorage: new tus.FileUrlStorage(storagePath),
  onChunkComplete: (size, sent) => {
    if (offsetAtStart === null) offsetAtStart = sent - size;
    chunks += 1;
    if (chunks >= stopAfter) {
      // The tab closes: no DELETE, the upload stays where it is.
      upload.abort(false).then(() => {
        console.log(JSON.stringify({ url: upload.url, jobId: null, offsetAtStart, chunks }));
        process.exit(0);
      });
    }
  },
  onSuccess: (payload) => {
    console.log(JSON.stringify({
      url: upload.url, jobId: Number(payload.lastResponse.getHeader('Upload-Job')), offsetAtStart, chunks,
    }));
  },
  onError: (err) => {
    console.error(String(err));
    process.exit(1);
  },
});

const previous = await upload.findPreviousUploads();
if (modes.includes('resume')) {
  if (!previous.length) {
    console.error('no previous upload stored');
    process.exit(2);
  }
  upload.resumeFromPreviousUpload(previous[0]);
}
upload.start();
