{{%AUTOESCAPE context="HTML"}}<!DOCTYPE html>
<html lang="{{lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}} · VMManager</title>
<link rel="stylesheet" href="/static/css/app.css">
</head>
<body>
<header class="topbar">
  <a class="brand" href="/">VMManager</a>
  {{#logged_in}}
  <nav class="nav">
    <a href="/">{{_ Dashboard}}</a>
    <a href="/vms">{{_ Virtual machines}}</a>
    <a href="/isos">{{_ ISO images}}</a>
    <a href="/templates">{{_ Templates}}</a>
    <a href="/host">{{_ Host}}</a>
    {{#is_admin}}<a href="/networks">{{_ Networks}}</a>{{/is_admin}}
    {{#is_admin}}<a href="/storage-pools">{{_ Storage pools}}</a>{{/is_admin}}
    {{#is_admin}}<a href="/users">{{_ Users}}</a>{{/is_admin}}
    <a href="/audit-logs">{{_ Audit log}}</a>
  </nav>
  {{/logged_in}}
  <div class="topbar-end">
    <form class="inline" method="post" action="/language">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <input type="hidden" name="next" value="{{path}}">
      {{#lang_zh}}<button class="link" name="language" value="en" lang="en">English</button>{{/lang_zh}}
      {{#lang_en}}<button class="link" name="language" value="zh-CN" lang="zh-CN">中文</button>{{/lang_en}}
    </form>
    {{#logged_in}}
    <a class="me" id="me" href="/profile">{{me_name}}</a>
    <form class="inline" method="post" action="/logout">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <button class="link" id="logout">{{_ Log out}}</button>
    </form>
    {{/logged_in}}
  </div>
</header>
<main class="content">
{{#has_error}}<p class="alert alert-error" role="alert" id="error">{{error_message}}</p>{{/has_error}}
{{>PAGE}}
</main>
<footer class="footer">VMManager{{#has_error}} · {{_ Request}} {{request_id}}{{/has_error}}</footer>
</body>
</html>
