{{%AUTOESCAPE context="HTML"}}<h1>{{_ Templates}}</h1>
<div class="toolbar">
  <form method="get" action="/templates" class="toolbar">
    <input name="q" placeholder="{{_ Search}}" aria-label="{{_ Search}}" maxlength="100">
    <input name="category" placeholder="{{_ Category}}" aria-label="{{_ Category}}" maxlength="32">
    <select name="arch" aria-label="{{_ Architecture}}">
      <option value="">{{_ Any architecture}}</option>
      <option value="x86_64">x86_64</option>
      <option value="aarch64">aarch64</option>
    </select>
    <button type="submit">{{_ Search}}</button>
  </form>
  <a class="button primary" href="/uploads" id="upload-template">{{_ Upload an image}}</a>
</div>
<div id="templates-live" data-live>
<table class="table" id="templates">
  <thead><tr>
    <th>{{_ Name}}</th><th>{{_ Category}}</th><th>{{_ OS}}</th><th>{{_ Architecture}}</th>
    <th>{{_ Format}}</th><th>{{_ Visibility}}</th><th>{{_ VMs}}</th><th>{{_ Linked clones}}</th><th></th>
  </tr></thead>
  <tbody>
  {{#items}}
    <tr>
      <td><a href="/templates/{{id}}">{{name}}</a>{{#status_is_quarantined}}
        <br><strong class="quarantined">{{_ Quarantined}}</strong>: <span class="quarantine-reason">{{quarantine_reason}}</span>{{/status_is_quarantined}}</td><td>{{category}}</td><td>{{os}}</td><td>{{arch}}</td><td>{{format}}</td>
      <td>{{#visibility_is_public}}{{_ Public}}{{/visibility_is_public}}{{#visibility_is_private}}{{_ Private}}{{/visibility_is_private}}</td>
      <td>{{usage_count}}</td><td>{{linked_clones}}</td>
      <td class="actions">
        {{#status_is_ready}}<a class="button" href="/templates/{{id}}/download">{{_ Download}}</a>{{/status_is_ready}}
        <form method="post" action="/templates/{{id}}/delete" class="inline" data-confirm="{{_ Delete the template}} “{{name}}”? {{_ Its disk image is removed for good.}}">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}"><button>{{_ Delete}}</button></form>
      </td>
    </tr>
  {{/items}}
  {{#items_empty}}<tr><td colspan="9">{{_ No templates yet.}}</td></tr>{{/items_empty}}
  </tbody>
</table>
{{#meta}}<p class="muted">{{_ Total}}: {{total}}</p>{{/meta}}
</div>
