{{%AUTOESCAPE context="HTML"}}<h1>{{_ Alerts}}</h1>
<table class="table" id="alerts">
  <thead><tr><th>{{_ Started}}</th><th>{{_ State}}</th><th>{{_ Severity}}</th><th>{{_ Virtual machine}}</th><th>{{_ Metric}}</th><th>{{_ Value}}</th><th>{{_ Peak}}</th><th>{{_ Threshold}}</th><th>{{_ Resolved}}</th></tr></thead>
  <tbody>
  {{#items}}<tr data-alert="{{id}}" data-state="{{state}}"><td>{{started_at}}</td><td>{{state}}</td><td>{{severity}}</td><td>{{vm_name}} ({{object}})</td><td>{{metric}}</td><td>{{value}}</td><td>{{peak_value}}</td><td>{{threshold}}</td><td>{{resolved_at}}</td></tr>{{/items}}
  {{#items_empty}}<tr><td colspan="9">{{_ No alerts so far.}}</td></tr>{{/items_empty}}
  </tbody>
</table>
