{{%AUTOESCAPE context="HTML"}}<h1>{{_ ISO image}} {{name}}</h1>
<p><a href="/isos">{{_ All ISO images}}</a></p>
<section class="card">
  <table class="table" id="iso">
    <tbody>
      <tr><th>{{_ Architecture}}</th><td id="arch">{{arch}}</td></tr>
      <tr><th>{{_ Label}}</th><td>{{volume_label}}</td></tr>
      <tr><th>{{_ Size (bytes)}}</th><td>{{size_bytes}}</td></tr>
      <tr><th>MD5</th><td><span class="hash long" data-copy="{{md5}}"><code id="md5" title="{{md5}}">{{md5}}</code><button type="button" class="copy" data-copy="{{md5}}" data-copied="{{_ Copied}}" aria-label="{{_ Copy}} MD5">{{_ Copy}}</button></span></td></tr>
      <tr><th>SHA-256</th><td><span class="hash long" data-copy="{{sha256}}"><code id="sha256" title="{{sha256}}">{{sha256}}</code><button type="button" class="copy" data-copy="{{sha256}}" data-copied="{{_ Copied}}" aria-label="{{_ Copy}} SHA-256">{{_ Copy}}</button></span></td></tr>
      <tr><th>{{_ Visibility}}</th><td>{{#visibility_is_public}}{{_ Public}}{{/visibility_is_public}}{{#visibility_is_private}}{{_ Private}}{{/visibility_is_private}}</td></tr>
      <tr><th>{{_ Status}}</th><td>{{#status_is_ready}}{{_ Ready}}{{/status_is_ready}}{{#status_is_importing}}{{_ Importing}}{{/status_is_importing}}{{#status_is_failed}}{{_ Failed}}{{/status_is_failed}}</td></tr>
      <tr><th>{{_ Used by}}</th><td id="in-use-by">{{#in_use_by}}<a href="/vms/{{value}}">#{{value}}</a> {{/in_use_by}}{{#in_use_by_empty}}{{_ No virtual machine}}{{/in_use_by_empty}}</td></tr>
      <tr><th>{{_ Created}}</th><td>{{created_at}}</td></tr>
    </tbody>
  </table>
  <div class="toolbar">
    <form method="post" action="/isos/{{id}}" class="inline" id="iso-arch">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <label for="arch-choice">{{_ Architecture}}</label>
      <select id="arch-choice" name="arch"><option value="x86_64">x86_64</option><option value="aarch64"{{#arch_is_aarch64}} selected{{/arch_is_aarch64}}>aarch64</option></select>
      <button>{{_ Save}}</button></form>
    <form method="post" action="/isos/{{id}}/verify" class="inline">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}"><button>{{_ Verify}}</button></form>
    <form method="post" action="/isos/{{id}}/delete" class="inline" data-confirm="{{_ Delete the ISO image}} “{{name}}”? {{_ Its file is removed for good.}}">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}"><button>{{_ Delete}}</button></form>
  </div>
</section>
