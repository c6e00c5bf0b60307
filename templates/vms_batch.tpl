{{%AUTOESCAPE context="HTML"}}<h1>{{_ Batch action}}</h1>
<p><a href="/vms">{{_ All virtual machines}}</a></p>
<table class="table reflow" id="batch-results">
  <thead><tr><th>{{_ Virtual machine}}</th><th>{{_ Result}}</th></tr></thead>
  <tbody>
  {{#items}}
    <tr class="{{#ok}}batch-ok{{/ok}}{{#not_ok}}batch-failed{{/not_ok}}" data-id="{{id}}">
      <td data-label="{{_ Virtual machine}}"><a href="/vms/{{id}}">{{name}}</a></td>
      <td data-label="{{_ Result}}">{{#ok}}<span class="state state-succeeded">{{_ Done}}</span>{{/ok}}{{#not_ok}}<span class="state state-failed">{{_ Failed}}</span> {{#error}}{{message}}{{/error}}{{/not_ok}}</td>
    </tr>
  {{/items}}
  </tbody>
</table>
