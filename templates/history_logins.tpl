{{%AUTOESCAPE context="HTML"}}<h1>{{_ Login history}}</h1>
{{#filters}}
<form method="get" action="/history/logins" class="toolbar" id="login-filters">
  {{#all_users}}<input name="username" placeholder="{{_ User name}}" aria-label="{{_ User name}}" maxlength="64" value="{{username}}">{{/all_users}}
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
{{#csv}}<p><a class="button" href="{{href}}" id="logins-csv">{{_ Download CSV}}</a></p>{{/csv}}
<table class="table" id="logins">
  <thead><tr>
    <th>{{_ Time (UTC)}}</th><th>{{_ User name}}</th><th>{{_ Result}}</th><th>{{_ Reason}}</th>
    <th>{{_ IP address}}</th><th>{{_ Browser}}</th>
  </tr></thead>
  <tbody>
  {{#items}}
    <tr>
      <td>{{time}}</td><td>{{username}}</td>
      <td>{{#success}}{{_ Success}}{{/success}}{{#not_success}}{{_ Failure}}{{/not_success}}</td>
      <td>{{#reason_is_bad_password}}{{_ Wrong password}}{{/reason_is_bad_password}}{{#reason_is_unknown_user}}{{_ Unknown user}}{{/reason_is_unknown_user}}{{#reason_is_locked}}{{_ Locked}}{{/reason_is_locked}}{{#reason_is_disabled}}{{_ Disabled}}{{/reason_is_disabled}}</td>
      <td>{{ip}}</td><td>{{user_agent}}</td>
    </tr>
  {{/items}}
  {{#items_empty}}<tr><td colspan="6">{{_ Nothing matches.}}</td></tr>{{/items_empty}}
  </tbody>
</table>
<p class="toolbar">{{#prev}}<a href="{{href}}" id="prev-page">{{_ Newer}}</a>{{/prev}}
{{#meta}}<span class="muted">{{_ Total}}: {{total}} · {{_ Page}} {{page}}</span>{{/meta}}
{{#next}}<a href="{{href}}" id="next-page">{{_ Older}}</a>{{/next}}</p>
