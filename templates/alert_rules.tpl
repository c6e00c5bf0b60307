{{%AUTOESCAPE context="HTML"}}<h1>{{_ Alert rules}}</h1>
<table class="table" id="rules">
  <thead><tr><th>{{_ Name}}</th><th>{{_ Target}}</th><th>{{_ Condition}}</th><th>{{_ Duration (s)}}</th><th>{{_ Severity}}</th><th>{{_ Action}}</th><th>{{_ Enabled}}</th></tr></thead>
  <tbody>
  {{#items}}<tr data-rule="{{id}}"><td>{{name}}</td><td>{{target}}</td><td>{{metric}} {{condition}} {{threshold}}</td><td>{{duration_s}}</td><td>{{severity}}</td><td>{{action}}</td><td>{{#enabled}}✓{{/enabled}}</td></tr>{{/items}}
  {{#items_empty}}<tr><td colspan="7">{{_ No alert rules yet.}}</td></tr>{{/items_empty}}
  </tbody>
</table>
<p><a href="/alerts">{{_ Alert history}}</a> · <a href="/notification-channels">{{_ Notification channels}}</a></p>
