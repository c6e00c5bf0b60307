{{%AUTOESCAPE context="HTML"}}<h1>{{_ Upload an image}}</h1>
<div class="columns">
<form class="card form" id="upload-form" data-csrf="{{csrf_token}}" data-max="{{max_bytes}}">
  <label for="kind">{{_ Kind}}</label>
  <select id="kind" name="kind">
    <option value="iso">{{_ ISO image}}</option>
    <option value="template">{{_ Template (disk image)}}</option>
    <option value="vm">{{_ Virtual machine (OVA, reviewed before it is made)}}</option>
  </select>
  <label for="name">{{_ Name}}</label>
  <input id="name" name="name" maxlength="64" placeholder="{{_ The file's name if empty}}">
  <label for="arch">{{_ Architecture}}</label>
  <select id="arch" name="arch"><option value="">{{_ Detect (ISO), else x86_64}}</option><option value="x86_64">x86_64</option><option value="aarch64">aarch64</option></select>
  <div id="template-fields" class="form" hidden>
    <label for="format">{{_ Format}}</label>
    <select id="format" name="format">
      <option value="qcow2">qcow2</option><option value="raw">raw</option>
      <option value="vmdk">vmdk</option><option value="ova">OVA</option>
    </select>
    <label for="category">{{_ Category}}</label>
    <input id="category" name="category" maxlength="32">
    {{#has_storage_pools}}<label for="pool_id">{{_ Storage pool}}</label>
    <select id="pool_id" name="pool_id">
      <option value="">{{_ Default}}</option>
      {{#storage_pools}}<option value="{{id}}">{{name}}</option>{{/storage_pools}}
    </select>{{/has_storage_pools}}
  </div>
  <label for="file">{{_ File}}</label>
  <div class="dropzone" id="dropzone">
    <p>{{_ Drop a file here or choose one.}}</p>
    <input type="file" id="file" name="file">
  </div>
  <p class="muted">{{_ An interrupted upload continues where it stopped: choose the same file again, even after reloading the page.}}</p>
</form>
<div class="card" id="upload-status" hidden>
  <h2 id="upload-file"></h2>
  <progress id="upload-progress" max="100" value="0"></progress>
  <p><span id="upload-percent">0</span>% · <span id="upload-speed">–</span> · {{_ ETA}} <span id="upload-eta">–</span></p>
  <p class="actions">
    <button type="button" id="upload-pause">{{_ Pause}}</button>
    <button type="button" id="upload-resume" hidden>{{_ Resume}}</button>
  </p>
  <p id="upload-resumed" class="muted" hidden>{{_ Resumed an earlier upload of this file.}}</p>
  <p id="upload-done" hidden>{{_ Uploaded. The import runs as a job:}} <a id="upload-job" href="#"></a></p>
  <p id="upload-error" class="alert alert-error" hidden></p>
</div>
</div>
<section class="card" id="unfinished" data-live>
  <h2>{{_ Unfinished uploads}}</h2>
  <p class="muted">{{_ To go on with one, choose the same file again above.}}</p>
  <table class="table">
    <thead><tr><th>{{_ File}}</th><th>{{_ Kind}}</th><th>{{_ Received}}</th><th>{{_ Expires}}</th><th></th></tr></thead>
    <tbody>
    {{#unfinished}}
      <tr>
        <td>{{filename}}</td><td>{{kind}}</td>
        <td><progress max="100" value="{{percent}}"></progress> {{percent}}% ({{received_bytes}} / {{length_bytes}})</td>
        <td>{{expires_at}}</td>
        <td class="actions"><form method="post" action="/uploads/{{id}}/delete" class="inline">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}"><button>{{_ Discard}}</button></form></td>
      </tr>
    {{/unfinished}}
    {{#unfinished_empty}}<tr><td colspan="5">{{_ None.}}</td></tr>{{/unfinished_empty}}
    </tbody>
  </table>
</section>
<script src="/static/vendor/tus.min.js"></script>
<script src="/static/js/upload.js"></script>
