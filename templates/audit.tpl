{{%AUTOESCAPE context="HTML"}}<h1>{{_ Audit log}}</h1>
<p class="muted">{{#all_users}}{{_ Every change made by anyone, refused ones too.}}{{/all_users}}{{#not_all_users}}{{_ What you changed, refused attempts too.}}{{/not_all_users}}</p>
{{#filters}}
<form method="get" action="/audit-logs" class="toolbar" id="audit-filters">
  {{#all_users}}<input name="actor" placeholder="{{_ User name}}" aria-label="{{_ User name}}" maxlength="64" value="{{actor}}">{{/all_users}}
  <input name="action" placeholder="{{_ Action (vm.* for all VM actions)}}" aria-label="{{_ Action (vm.* for all VM actions)}}" maxlength="64" value="{{action}}">
  <input name="target_type" placeholder="{{_ Target type}}" aria-label="{{_ Target type}}" maxlength="32" value="{{target_type}}">
  <input name="target_id" placeholder="{{_ Target ID}}" aria-label="{{_ Target ID}}" maxlength="20" value="{{target_id}}">
  <select name="result" aria-label="{{_ Result}}">
    <option value="">{{_ Any result}}</option>
    <option value="success" {{#result_is_success}}selected{{/result_is_success}}>{{_ Success}}</option>
    <option value="failure" {{#result_is_failure}}selected{{/result_is_failure}}>{{_ Failure}}</option>
  </select>
  <input name="ip" placeholder="{{_ IP address}}" aria-label="{{_ IP address}}" maxlength="45" value="{{ip}}">
  <label>{{_ From}} <input name="from" type="date" value="{{from}}"></label>
  <label>{{_ To}} <input name="to" type="date" value="{{to}}"></label>
  <button type="submit">{{_ Filter}}</button>
</form>
{{/filters}}
{{#csv}}<p><a class="button" href="{{href}}" id="audit-csv">{{_ Download CSV}}</a></p>{{/csv}}
<table class="table" id="audit">
  <thead><tr>
    <th>{{_ Time (UTC)}}</th><th>{{_ User}}</th><th>{{_ Action}}</th><th>{{_ Target}}</th>
    <th>{{_ Result}}</th><th>{{_ IP address}}</th><th>{{_ Details}}</th>
  </tr></thead>
  <tbody>
  {{#items}}
    <tr>
      <td>{{time}}</td>
      <td>{{actor_name}}</td>
      <td class="audit-summary" data-action="{{action}}">{{summary}}</td>
      <td>{{target_name}}</td>
      <td>{{#success}}{{_ Success}}{{/success}}{{#not_success}}{{_ Failure}}{{/not_success}} ({{status}})</td>
      <td>{{ip}}</td>
      <td>{{>audit_details.tpl}}<div class="muted">{{_ Request}} {{request_id}}</div></td>
    </tr>
  {{/items}}
  {{#items_empty}}<tr><td colspan="7">{{_ Nothing matches.}}</td></tr>{{/items_empty}}
  </tbody>
</table>
<p class="toolbar">{{#prev}}<a href="{{href}}" id="prev-page">{{_ Newer}}</a>{{/prev}}
{{#meta}}<span class="muted">{{_ Total}}: {{total}} · {{_ Page}} {{page}}</span>{{/meta}}
{{#next}}<a href="{{href}}" id="next-page">{{_ Older}}</a>{{/next}}</p>
