{{%AUTOESCAPE context="HTML"}}<h1>{{_ VM operation history}}</h1>
{{#filters}}
<form method="get" action="/history/vm-operations" class="toolbar" id="vm-operation-filters">
  {{#all_users}}<input name="actor" placeholder="{{_ User name}}" aria-label="{{_ User name}}" maxlength="64" value="{{actor}}">{{/all_users}}
  <input name="target_id" placeholder="{{_ VM ID}}" aria-label="{{_ VM ID}}" maxlength="20" value="{{target_id}}">
  <input name="action" placeholder="{{_ Action (vm.* for all VM actions)}}" aria-label="{{_ Action (vm.* for all VM actions)}}" maxlength="64" value="{{action}}">
  <select name="result" aria-label="{{_ Result}}">
    <option value="">{{_ Any result}}</option>
    <option value="success" {{#result_is_success}}selected{{/result_is_success}}>{{_ Success}}</option>
    <option value="failure" {{#result_is_failure}}selected{{/result_is_failure}}>{{_ Failure}}</option>
  </select>
  <label>{{_ From}} <input name="from" type="date" value="{{from}}"></label>
  <label>{{_ To}} <input name="to" type="date" value="{{to}}"></label>
  <button type="submit">{{_ Filter}}</button>
</form>
{{/filters}}
<table class="table" id="vm-operations">
  <thead><tr>
    <th>{{_ Time (UTC)}}</th><th>{{_ User}}</th><th>{{_ Action}}</th><th>{{_ Virtual machine}}</th>
    <th>{{_ Result}}</th><th>{{_ Details}}</th>
  </tr></thead>
  <tbody>
  {{#items}}
    <tr>
      <td>{{time}}</td><td>{{actor_name}}</td><td class="audit-summary" data-action="{{action}}">{{summary}}</td>
      <td><a href="/vms/{{target_id}}">{{target_name}}</a></td>
      <td>{{#success}}{{_ Success}}{{/success}}{{#not_success}}{{_ Failure}}{{/not_success}} ({{status}})</td>
      <td>{{>audit_details.tpl}}</td>
    </tr>
  {{/items}}
  {{#items_empty}}<tr><td colspan="6">{{_ Nothing matches.}}</td></tr>{{/items_empty}}
  </tbody>
</table>
<p class="toolbar">{{#prev}}<a href="{{href}}" id="prev-page">{{_ Newer}}</a>{{/prev}}
{{#meta}}<span class="muted">{{_ Total}}: {{total}} · {{_ Page}} {{page}}</span>{{/meta}}
{{#next}}<a href="{{href}}" id="next-page">{{_ Older}}</a>{{/next}}</p>
