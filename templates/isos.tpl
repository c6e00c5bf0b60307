{{%AUTOESCAPE context="HTML"}}<h1>{{_ ISO images}}</h1>
<div class="toolbar">
  <form method="get" action="/isos" class="toolbar">
    <input name="q" placeholder="{{_ Search}}" aria-label="{{_ Search}}" maxlength="100">
    <button type="submit">{{_ Search}}</button>
  </form>
  <a class="button primary" href="/uploads" id="upload-iso">{{_ Upload an image}}</a>
</div>
<div id="isos-live" data-live>
<table class="table" id="isos">
  <thead><tr>
    <th>{{_ Name}}</th><th>{{_ Architecture}}</th><th>{{_ Label}}</th><th>{{_ Size (bytes)}}</th><th>{{_ Status}}</th>
    <th>{{_ Visibility}}</th><th>SHA-256</th><th>{{_ Created}}</th><th></th>
  </tr></thead>
  <tbody>
  {{#items}}
    <tr>
      <td><a href="/isos/{{id}}">{{name}}</a></td><td class="arch">{{arch}}</td><td>{{volume_label}}</td><td>{{size_bytes}}</td>
      <td><span class="state">{{#status_is_ready}}{{_ Ready}}{{/status_is_ready}}{{#status_is_importing}}{{_ Importing}}{{/status_is_importing}}{{#status_is_failed}}{{_ Failed}}{{/status_is_failed}}</span></td>
      <td>{{#visibility_is_public}}{{_ Public}}{{/visibility_is_public}}{{#visibility_is_private}}{{_ Private}}{{/visibility_is_private}}</td>
      <td><span class="hash" data-copy="{{sha256}}"><code title="{{sha256}}">{{sha256}}</code><button type="button" class="copy" data-copy="{{sha256}}" data-copied="{{_ Copied}}" aria-label="{{_ Copy}} SHA-256">{{_ Copy}}</button></span></td><td>{{created_at}}</td>
      <td class="actions">
        <form method="post" action="/isos/{{id}}/verify" class="inline">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}"><button>{{_ Verify}}</button></form>
        <form method="post" action="/isos/{{id}}/delete" class="inline" data-confirm="{{_ Delete the ISO image}} “{{name}}”? {{_ Its file is removed for good.}}">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}"><button>{{_ Delete}}</button></form>
      </td>
    </tr>
  {{/items}}
  {{#items_empty}}<tr><td colspan="9">{{_ No ISO images yet.}}</td></tr>{{/items_empty}}
  </tbody>
</table>
{{#meta}}<p class="muted">{{_ Total}}: {{total}}</p>{{/meta}}
</div>
