{{%AUTOESCAPE context="HTML"}}<h1>{{_ Storage pools}}</h1>
<p><a href="/networks">{{_ Networks}}</a> · <a href="/ip-pools">{{_ IP address pools}}</a></p>
<table class="table" id="storage-pools">
  <thead><tr>
    <th>{{_ Name}}</th><th>{{_ Type}}</th><th>{{_ Path}}</th><th>{{_ State}}</th><th>{{_ Usage}}</th><th>{{_ Free (GiB)}}</th>
  </tr></thead>
  <tbody>
  {{#items}}
    <tr data-name="{{name}}">
      <td><a href="/storage-pools/{{id}}">{{name}}</a></td>
      <td>{{type}}</td>
      <td>{{path}}</td>
      <td class="state-{{state}}">{{state}}</td>
      <td><progress class="usage" max="100" value="{{usage_percent}}">{{usage_percent}}%</progress> {{usage_percent}}% {{_ of}} {{capacity_gb}} GiB</td>
      <td>{{available_gb}}</td>
    </tr>
  {{/items}}
  {{#items_empty}}<tr><td colspan="6">{{_ No storage pools yet.}}</td></tr>{{/items_empty}}
  </tbody>
</table>

<section class="card narrow">
  <h2>{{_ New storage pool}}</h2>
  <form method="post" action="/storage-pools" class="form" id="new-storage-pool">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="name">{{_ Name}}</label>
    <input id="name" name="name" required maxlength="48" value="{{#form}}{{name}}{{/form}}">
    <label for="type">{{_ Type}}</label>
    <select id="type" name="type">
      <option value="dir">{{_ Directory}}</option>
      <option value="logical">{{_ LVM volume group}}</option>
      <option value="netfs">{{_ NFS share}}</option>
    </select>
    <label for="path">{{_ Directory (dir and NFS)}}</label>
    <input id="path" name="path" maxlength="200" value="{{#form}}{{path}}{{/form}}">
    <label for="source_host">{{_ NFS server}}</label>
    <input id="source_host" name="source_host" maxlength="253" value="{{#form}}{{source_host}}{{/form}}">
    <label for="source_path">{{_ NFS export, or the LVM device}}</label>
    <input id="source_path" name="source_path" maxlength="200" value="{{#form}}{{source_path}}{{/form}}">
    <label for="source_name">{{_ Volume group (LVM)}}</label>
    <input id="source_name" name="source_name" maxlength="48" value="{{#form}}{{source_name}}{{/form}}">
    <label><input type="checkbox" name="users_allowed" value="true"> {{_ Users may put VM disks here}}</label>
    <button type="submit" class="primary">{{_ Create storage pool}}</button>
  </form>
</section>
