// Live pages, without a framework. The server renders every page; this
// only keeps what is on screen current:
// - Regions marked data-live (with an id) are refreshed when the database
//   changes: /events (Server-Sent Events, vmm-events) says "changed", the
//   page fetches itself with the ETag of what it has (304 when nothing it
//   shows moved) and swaps in the new regions. What the user typed or
//   selected outside them stays; checked boxes and focus inside them are
//   carried over.
// - <time datetime> shows in the reader's time zone and language, relative
//   when recent ("3 min ago"), with the exact time on hover.
// - Safe to click: a form with data-confirm asks first, naming what will be
//   lost; the VM delete form (data-confirm-name) keeps its button disabled
//   until the machine's name is typed, when the disk goes too (the server
//   checks the name as well).
// Without JavaScript the pages work as they are, and a reload updates them.
(function () {
  'use strict';

  var lang = document.documentElement.lang || 'en';

  function relative(date) {
    if (!window.Intl || !Intl.RelativeTimeFormat) return null;
    var seconds = Math.round((date.getTime() - Date.now()) / 1000);
    var abs = Math.abs(seconds);
    var rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
    if (abs < 60) return rtf.format(seconds, 'second');
    if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
    if (abs < 86400) return rtf.format(Math.round(seconds / 3600), 'hour');
    return null;
  }

  function localizeTimes(root) {
    var times = root.querySelectorAll('time[datetime]');
    for (var i = 0; i < times.length; i++) {
      var el = times[i];
      var iso = el.getAttribute('datetime');
      if (!iso) continue;
      var date = new Date(iso);
      if (isNaN(date.getTime())) continue;
      var exact = date.toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'medium' });
      el.title = exact;
      el.textContent = (el.hasAttribute('data-exact') ? null : relative(date)) || exact;
    }
  }

  // The state of controls inside a region, to put back after the swap.
  function remember(region) {
    var checked = {};
    var boxes = region.querySelectorAll('input[type=checkbox]');
    for (var i = 0; i < boxes.length; i++) {
      checked[boxes[i].name + '=' + boxes[i].value] = boxes[i].checked;
    }
    var active = document.activeElement;
    return { checked: checked, focus: active && region.contains(active) ? active.id : null };
  }

  function restore(region, kept) {
    var boxes = region.querySelectorAll('input[type=checkbox]');
    for (var i = 0; i < boxes.length; i++) {
      var key = boxes[i].name + '=' + boxes[i].value;
      if (key in kept.checked) boxes[i].checked = kept.checked[key];
    }
    if (kept.focus) {
      var el = document.getElementById(kept.focus);
      if (el) el.focus();
    }
  }

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, 'text/html');
    var regions = document.querySelectorAll('[data-live][id]');
    for (var i = 0; i < regions.length; i++) {
      var old = regions[i];
      var next = fresh.getElementById(old.id);
      if (!next || next.innerHTML === served[old.id]) continue;
      var kept = remember(old);
      old.innerHTML = next.innerHTML;
      served[old.id] = next.innerHTML;
      localizeTimes(old);
      restore(old, kept);
    }
    document.dispatchEvent(new CustomEvent('vmm:live'));
  }

  var served = {};       // region id -> the HTML the server last sent for it
  var shown = document.body ? document.body.getAttribute('data-generation') : null;
  var etag = null;
  var busy = false;
  var again = false;

  function refresh(generation) {
    if (busy) { again = generation; return; }
    busy = true;
    var headers = { 'X-VMM-Background': '1' };
    if (etag) headers['If-None-Match'] = etag;
    fetch(location.href, { headers: headers, credentials: 'same-origin', cache: 'no-store',
      redirect: 'manual' })
      .then(function (res) {
        if (res.status !== 200) return null;   // 304: nothing new; else leave the page be
        etag = res.headers.get('ETag');
        return res.text();
      })
      .then(function (html) {
        if (html) swap(html);
        shown = generation;
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) { var g = again; again = false; refresh(g); }
      });
  }

  document.addEventListener('submit', function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) event.preventDefault();
  });

  function guardNamedDelete(form) {
    var name = form.getAttribute('data-confirm-name');
    var disks = form.querySelector('input[name=delete_disks]');
    var typed = form.querySelector('input[name=confirm_name]');
    var button = form.querySelector('button[type=submit]');
    if (!typed || !button) return;
    var check = function () {
      button.disabled = !!(disks && disks.checked) && typed.value !== name;
    };
    typed.addEventListener('input', check);
    if (disks) disks.addEventListener('change', check);
    check();
  }

  // The create form: choosing a template sets the size fields to its
  // defaults, unless the user has typed their own.
  function followTemplate(select) {
    var fields = { vcpus: 'data-vcpus', memory_mb: 'data-memory', disk_gb: 'data-disk' };
    var form = select.form;
    var touched = {};
    Object.keys(fields).forEach(function (name) {
      var input = form.querySelector('input[name=' + name + ']');
      if (input) input.addEventListener('input', function () { touched[name] = true; });
    });
    select.addEventListener('change', function () {
      var option = select.options[select.selectedIndex];
      Object.keys(fields).forEach(function (name) {
        var input = form.querySelector('input[name=' + name + ']');
        var value = option && option.getAttribute(fields[name]);
        if (input && value && !touched[name]) input.value = value;
      });
    });
  }

  function start() {
    localizeTimes(document);
    var named = document.querySelectorAll('form[data-confirm-name]');
    for (var n = 0; n < named.length; n++) guardNamedDelete(named[n]);
    var chooser = document.querySelector('select#template_id');
    if (chooser && chooser.form) followTemplate(chooser);
    var regions = document.querySelectorAll('[data-live][id]');
    if (!regions.length || !window.EventSource || !window.fetch) return;
    for (var i = 0; i < regions.length; i++) served[regions[i].id] = regions[i].innerHTML;
    var timer = null;
    var latest = null;
    var source = new EventSource('/events');
    // Each message is the write generation now (the first on connecting);
    // the page was rendered at <body data-generation>.
    source.onmessage = function (event) {
      latest = event.data;
      if (latest === shown || timer) return;
      // Writes come in bursts (a job's progress): one refresh per burst.
      timer = setTimeout(function () { timer = null; refresh(latest); }, 150);
    };
    document.documentElement.setAttribute('data-live-ready', '');
    source.onopen = function () { document.documentElement.setAttribute('data-live-open', ''); };
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
