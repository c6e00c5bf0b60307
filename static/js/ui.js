// The small behaviours every page shares (issue 15), no framework:
//  - the nav folds into a menu button on narrow screens (layout.tpl's
//    #nav-toggle; without script the nav simply wraps);
//  - tables reflow into one card per row below 700 px: each cell gets its
//    column's heading as data-label (app.css shows it), again after a live
//    update (live.js's "vmm:live");
//  - copy buttons: <button class="copy" data-copy="text" data-copied="…">.
(function () {
  'use strict';

  function menu() {
    var toggle = document.getElementById('nav-toggle');
    var bar = toggle && toggle.closest('.topbar');
    if (!bar) return;
    var set = function (open) {
      bar.classList.toggle('open', open);
      toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    };
    bar.classList.add('has-menu');
    toggle.hidden = false;
    set(false);
    toggle.addEventListener('click', function () { set(!bar.classList.contains('open')); });
    document.addEventListener('keydown', function (event) {
      if (event.key === 'Escape' && bar.classList.contains('open')) { set(false); toggle.focus(); }
    });
  }

  function labelTables(root) {
    var tables = root.querySelectorAll('table.table');
    for (var t = 0; t < tables.length; t++) {
      var table = tables[t];
      var heads = table.tHead ? table.tHead.rows[0] : null;
      if (!heads) continue;
      var names = [];
      for (var h = 0; h < heads.cells.length; h++) {
        var span = heads.cells[h].colSpan || 1;
        for (var s = 0; s < span; s++) names.push(heads.cells[h].textContent.trim());
      }
      table.classList.add('reflow');
      for (var b = 0; b < table.tBodies.length; b++) {
        var rows = table.tBodies[b].rows;
        for (var r = 0; r < rows.length; r++) {
          var col = 0;
          for (var c = 0; c < rows[r].cells.length; c++) {
            var cell = rows[r].cells[c];
            if (!cell.hasAttribute('data-label') && names[col] && cell.colSpan === 1)
              cell.setAttribute('data-label', names[col]);
            col += cell.colSpan || 1;
          }
        }
      }
    }
  }

  function copied(button) {
    var label = button.textContent;
    button.textContent = button.getAttribute('data-copied') || label;
    setTimeout(function () { button.textContent = label; }, 2000);
  }

  // The Clipboard API needs a secure context (https or localhost); a portal
  // reached over plain http on a LAN falls back to a selected textarea.
  function copy(button) {
    var text = button.getAttribute('data-copy');
    if (window.isSecureContext && navigator.clipboard) {
      navigator.clipboard.writeText(text).then(function () { copied(button); }, function () { fallback(button, text); });
    } else {
      fallback(button, text);
    }
  }

  function fallback(button, text) {
    var area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'sr-only';
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    document.body.removeChild(area);
    button.focus();
    if (ok) copied(button);
  }

  function start() {
    menu();
    labelTables(document);
    document.addEventListener('vmm:live', function () { labelTables(document); });
    document.addEventListener('click', function (event) {
      var button = event.target.closest && event.target.closest('button.copy[data-copy]');
      if (button) copy(button);
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
