{{%AUTOESCAPE context="HTML"}}<h1>{{_ Change history}}</h1>
<p class="muted">{{_ What changed in accounts, quotas and virtual machines: the value before and after.}}</p>
{{#filters}}
<form method="get" action="/history/changes" class="toolbar" id="change-filters">
  {{#all_users}}<input name="actor" placeholder="{{_ User name}}" aria-label="{{_ User name}}" maxlength="64" value="{{actor}}">{{/all_users}}
  <input name="target_type" placeholder="{{_ Target type}}" aria-label="{{_ Target type}}" maxlength="32" value="{{target_type}}">
  <input name="target_id" placeholder="{{_ Target ID}}" aria-label="{{_ Target ID}}" maxlength="20" value="{{target_id}}">
  <label>{{_ From}} <input name="from" type="date" value="{{from}}"></label>
  <label>{{_ To}} <input name="to" type="date" value="{{to}}"></label>
  <button type="submit">{{_ Filter}}</button>
</form>
{{/filters}}
<table class="table" id="changes">
  <thead><tr>
    <th>{{_ Time (UTC)}}</th><th>{{_ User}}</th><th>{{_ Action}}</th><th>{{_ Target}}</th>
    <th>{{_ Field}}</th><th>{{_ Before}}</th><th>{{_ After}}</th>
  </tr></thead>
  <tbody>
  {{#items}}
    {{#change_list}}
    <tr>
      <td>{{time}}</td><td>{{actor_name}}</td><td class="audit-summary" data-action="{{action}}">{{summary}}</td>
      <td>{{target_name}}</td>
      <td>{{label}}</td><td>{{before}}</td><td>{{after}}</td>
    </tr>
    {{/change_list}}
  {{/items}}
  {{#items_empty}}<tr><td colspan="7">{{_ Nothing matches.}}</td></tr>{{/items_empty}}
  </tbody>
</table>
<p class="toolbar">{{#prev}}<a href="{{href}}" id="prev-page">{{_ Newer}}</a>{{/prev}}
{{#meta}}<span class="muted">{{_ Total}}: {{total}} · {{_ Page}} {{page}}</span>{{/meta}}
{{#next}}<a href="{{href}}" id="next-page">{{_ Older}}</a>{{/next}}</p>
