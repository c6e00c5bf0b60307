// The upload page: tus-js-client sends the file in chunks to /api/v1/uploads
// with a progress bar, speed and ETA, pause and resume. The browser keeps
// each upload's address (localStorage, by file name, size and date), so the
// same file chosen again after a reload or a closed tab continues where it
// stopped.
(function () {
  'use strict';
  var form = document.getElementById('upload-form');
  if (!form || !window.tus) return;
  var $ = function (id) { return document.getElementById(id); };
  var upload = null;
  var kind = $('kind');

  function show(id, on) { $(id).hidden = !on; }

  kind.addEventListener('change', function () { show('template-fields', kind.value === 'template'); });

  function human(bytes) {
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++; }
    return bytes.toFixed(i ? 1 : 0) + ' ' + units[i];
  }

  function duration(s) {
    if (!isFinite(s) || s < 0) return '–';
    s = Math.round(s);
    var m = Math.floor(s / 60);
    return m ? m + ' min ' + (s % 60) + ' s' : s + ' s';
  }

  function metadata(file) {
    var meta = { filename: file.name, kind: kind.value };
    if ($('name').value) meta.name = $('name').value;
    if ($('arch').value) meta.arch = $('arch').value;
    if (kind.value === 'template') {
      meta.format = $('format').value;
      if ($('category').value) meta.category = $('category').value;
      if ($('pool_id') && $('pool_id').value) meta.pool_id = $('pool_id').value;
    }
    return meta;
  }

  function start(file) {
    if (upload) upload.abort();
    var last = { t: Date.now(), bytes: 0 };
    var begun = Date.now();
    var startedAt = null;
    var speed = 0;
    show('upload-status', true);
    show('upload-done', false);
    show('upload-error', false);
    show('upload-resumed', false);
    show('upload-pause', true);
    show('upload-resume', false);
    $('upload-file').textContent = file.name;
    $('upload-progress').value = 0;
    upload = new tus.Upload(file, {
      endpoint: '/api/v1/uploads',
      chunkSize: 16 * 1024 * 1024,
      retryDelays: [0, 1000, 3000, 5000, 10000],
      headers: { 'X-CSRF-Token': form.dataset.csrf },
      metadata: metadata(file),
      removeFingerprintOnSuccess: true,
      onProgress: function (sent, total) {
        if (startedAt === null) { startedAt = sent; last.bytes = sent; }
        var now = Date.now();
        if (!speed && sent > 0 && now > begun) speed = (sent - startedAt) / ((now - begun) / 1000);
        if (now - last.t >= 500) {
          var rate = (sent - last.bytes) / ((now - last.t) / 1000);
          speed = speed ? 0.7 * speed + 0.3 * rate : rate;
          last = { t: now, bytes: sent };
        }
        var percent = total ? Math.floor(sent / total * 100) : 0;
        $('upload-progress').value = percent;
        $('upload-percent').textContent = percent;
        $('upload-speed').textContent = speed ? human(speed) + '/s' : '–';
        $('upload-eta').textContent = speed ? duration((total - sent) / speed) : '–';
      },
      onSuccess: function (payload) {
        var job = payload && payload.lastResponse && payload.lastResponse.getHeader('Upload-Job');
        $('upload-progress').value = 100;
        $('upload-percent').textContent = '100';
        $('upload-eta').textContent = '0 s';
        show('upload-pause', false);
        show('upload-resume', false);
        if (job) {
          $('upload-job').href = '/jobs/' + encodeURIComponent(job);
          $('upload-job').textContent = '#' + job;
        }
        show('upload-done', true);
      },
      onError: function (error) {
        var text = String(error && error.message || error);
        var res = error && error.originalResponse;
        try {
          text = JSON.parse(res.getBody()).error.message;
        } catch (e) { /* keep the client's text */ }
        $('upload-error').textContent = text;
        show('upload-error', true);
        show('upload-pause', false);
        show('upload-resume', true);
      }
    });
    upload.findPreviousUploads().then(function (previous) {
      if (previous.length) {
        upload.resumeFromPreviousUpload(previous[0]);
        show('upload-resumed', true);
      }
      upload.start();
    });
  }

  $('upload-pause').addEventListener('click', function () {
    if (!upload) return;
    upload.abort();
    show('upload-pause', false);
    show('upload-resume', true);
  });
  $('upload-resume').addEventListener('click', function () {
    if (!upload) return;
    show('upload-error', false);
    show('upload-resume', false);
    show('upload-pause', true);
    upload.start();
  });
  $('file').addEventListener('change', function () {
    if (this.files.length) start(this.files[0]);
  });
  var zone = $('dropzone');
  zone.addEventListener('dragover', function (e) { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', function () { zone.classList.remove('over'); });
  zone.addEventListener('drop', function (e) {
    e.preventDefault();
    zone.classList.remove('over');
    if (e.dataTransfer.files.length) start(e.dataTransfer.files[0]);
  });
}());
