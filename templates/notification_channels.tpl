{{%AUTOESCAPE context="HTML"}}<h1>{{_ Notification channels}}</h1>
<table class="table" id="channels">
  <thead><tr><th>{{_ Name}}</th><th>{{_ Type}}</th><th>{{_ Language}}</th><th>{{_ Enabled}}</th><th></th></tr></thead>
  <tbody>
  {{#items}}<tr data-channel="{{id}}"><td><a href="/api/v1/notification-channels/{{id}}/deliveries">{{name}}</a></td><td>{{type}}</td><td>{{language}}</td><td>{{#enabled}}✓{{/enabled}}</td>
    <td><form method="post" action="/notification-channels/{{id}}/test" class="inline">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <button class="test-channel">{{_ Test}}</button>
    </form></td></tr>{{/items}}
  {{#items_empty}}<tr><td colspan="5">{{_ No notification channels yet. Add one with POST /api/v1/notification-channels.}}</td></tr>{{/items_empty}}
  </tbody>
</table>
