{{%AUTOESCAPE context="HTML"}}<h1>{{_ IP address pools}}</h1>
<p><a href="/networks">{{_ Networks}}</a></p>
<table class="table" id="ip-pools">
  <thead><tr>
    <th>{{_ Name}}</th><th>{{_ Network}}</th><th>{{_ Range}}</th><th>{{_ Usage}}</th><th>{{_ Conflicts}}</th>
  </tr></thead>
  <tbody>
  {{#items}}
    <tr data-name="{{name}}">
      <td><a href="/ip-pools/{{id}}">{{name}}</a></td>
      <td>{{network}}</td>
      <td>{{range_start}} – {{range_end}}</td>
      <td><progress class="usage" max="{{size}}" value="{{used}}">{{usage_percent}}%</progress> {{used}} / {{size}}</td>
      <td>{{conflicts}}</td>
    </tr>
  {{/items}}
  {{#items_empty}}<tr><td colspan="5">{{_ No IP pools yet.}}</td></tr>{{/items_empty}}
  </tbody>
</table>

<section class="card narrow">
  <h2>{{_ New IP pool}}</h2>
  <form method="post" action="/ip-pools" class="form" id="new-ip-pool">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="name">{{_ Name}}</label>
    <input id="name" name="name" required maxlength="64" value="{{#form}}{{name}}{{/form}}">
    <label for="network_id">{{_ Network (id)}}</label>
    <input id="network_id" name="network_id" type="number" min="1" required value="{{#form}}{{network_id}}{{/form}}">
    <label for="range_start">{{_ First address}}</label>
    <input id="range_start" name="range_start" required maxlength="15" value="{{#form}}{{range_start}}{{/form}}">
    <label for="range_end">{{_ Last address}}</label>
    <input id="range_end" name="range_end" required maxlength="15" value="{{#form}}{{range_end}}{{/form}}">
    <label for="dns">{{_ DNS servers (comma separated)}}</label>
    <input id="dns" name="dns" maxlength="255" value="{{#form}}{{dns}}{{/form}}">
    <button type="submit" class="primary">{{_ Create IP pool}}</button>
  </form>
</section>
