// memberflow console: progressive enhancement only. Every page works without this script;
// with it, a step's form shows its dry run as it is filled in, and tables sort by a click
// on a column header.
(function () {
  'use strict';

  // Live dry run: forms marked data-check post their fields to that URL (same origin, with
  // the form's CSRF token) and show the fragment it returns in their [data-check-result].
  document.querySelectorAll('form[data-check]').forEach(function (form) {
    var out = form.querySelector('[data-check-result]');
    if (!out) return;
    var timer = null;
    var seq = 0;
    function run() {
      var mine = ++seq;
      var body = new URLSearchParams(new FormData(form));
      out.setAttribute('aria-busy', 'true');
      fetch(form.getAttribute('data-check'), {
        method: 'POST',
        body: body,
        credentials: 'same-origin',
        headers: { 'Accept': 'text/html' }
      }).then(function (r) { return r.text(); }).then(function (html) {
        if (mine !== seq) return;
        out.innerHTML = html;
        out.removeAttribute('aria-busy');
      }).catch(function () { out.removeAttribute('aria-busy'); });
    }
    function later() { clearTimeout(timer); timer = setTimeout(run, 350); }
    form.addEventListener('input', later);
    form.addEventListener('change', later);
  });

  // Sortable tables: a header button sorts the rows by its column (numbers as numbers).
  document.querySelectorAll('table[data-sortable]').forEach(function (table) {
    var heads = table.querySelectorAll('thead th');
    heads.forEach(function (th, col) {
      var label = th.textContent;
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'sort';
      button.textContent = label;
      th.textContent = '';
      th.appendChild(button);
      button.addEventListener('click', function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
        heads.forEach(function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
        rows.sort(function (a, b) {
          var x = a.cells[col].getAttribute('data-sort') || a.cells[col].textContent.trim();
          var y = b.cells[col].getAttribute('data-sort') || b.cells[col].textContent.trim();
          var nx = parseFloat(x), ny = parseFloat(y);
          if (!isNaN(nx) && !isNaN(ny)) return (nx - ny) * dir;
          return x.localeCompare(y, 'vi') * dir;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
