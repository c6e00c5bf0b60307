#include "app.h"

#include <limits.h>

#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_token.h"
#include "audit.h"
#include "compat.h"
#include "config.h"
#include "db.h"
#include "i18n.h"
#include "log.h"
#include "rbac.h"
#include "resp_cache.h"
#include "session.h"
#include "token.h"
#include "tpl.h"

#define LANG_COOKIE "vmm_lang"
#define FORM_CSRF_COOKIE "vmm_csrf"   /* for forms sent before login */
#define LAYOUT "layout.tpl"

int fail_db(struct req *r)
{
    return req_fail(r, 503, "database_unavailable", NULL,
                _("The database is not available. Try again shortly."));
}

struct req_tx {
    struct req *r;
    int (*body)(struct req *r, void *ctx);
    void *ctx;
};

/* Each attempt starts without the last one's error: a deadlock it met is
 * not the answer when the next attempt succeeds. */
static int req_tx_body(void *p)
{
    struct req_tx *t = p;
    memset(&t->r->err, 0, sizeof t->r->err);
    return t->body(t->r, t->ctx);
}

int req_transaction(struct req *r, int (*body)(struct req *r, void *ctx), void *ctx)
{
    struct req_tx t = { r, body, ctx };
    int rc = db_transaction(req_tx_body, &t);
    if (rc < 0 && !r->err.status)
        return fail_db(r);
    return rc;
}

const char *local_path(const char *target)
{
    if (!target || target[0] != '/' || target[1] == '/' || target[1] == '\\' ||
        strpbrk(target, "\r\n\\"))
        return NULL;
    return target;
}

static bool is_mutating(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
           strcmp(method, "OPTIONS") != 0;
}

/* The user's setting, then the cookie, then Accept-Language. */
static void choose_language(struct req *r)
{
    const char *lang = r->user ? i18n_code(r->user->language) : NULL;
    if (!lang) {
        char *cookie = req_cookie(r, LANG_COOKIE);
        lang = i18n_code(cookie);
        g_free(cookie);
    }
    if (!lang)
        lang = i18n_from_accept_language(r->accept_language);
    r->lang = lang ? lang : "en";
    i18n_use(r->lang);
}

/* Forms sent without a session (login, register) carry a token that must
 * equal a cookie set with the form: a cross-site page can read neither. */
static void ensure_form_csrf_cookie(struct req *r)
{
    if (r->user || r->api)
        return;
    char *cookie = req_cookie(r, FORM_CSRF_COOKIE);
    if (token_well_formed(cookie)) {
        snprintf(r->csrf_token, sizeof r->csrf_token, "%s", cookie);
    } else if (token_new(r->csrf_token) == 0) {
        resp_cookie(r, FORM_CSRF_COOKIE, r->csrf_token, 86400);
    }
    g_free(cookie);
}

static char *form_field(const struct req *r, const char *name)
{
    if (r->api || !r->body_len)
        return NULL;
    GHashTable *params =
        g_uri_parse_params(r->body, (gssize)r->body_len, "&", G_URI_PARAMS_WWW_FORM, NULL);
    char *value = params ? g_strdup(g_hash_table_lookup(params, name)) : NULL;
    if (params)
        g_hash_table_unref(params);
    return value;
}

/* Cookie-authenticated (and form) requests must prove they come from our
 * own pages. JSON API calls without a session (login) are safe: a
 * cross-site page cannot send application/json without CORS. */
static int check_csrf(struct req *r)
{
    if ((r->api && !r->user) || r->api_token_id > 0)
        return 0;
    char *submitted = r->csrf_header ? g_strdup(r->csrf_header) : form_field(r, "csrf_token");
    bool ok = r->csrf_token[0] && token_equal(submitted, r->csrf_token);
    g_free(submitted);
    if (!ok)
        return req_fail(r, 403, "csrf_failed", NULL,
                    _("The form has expired or did not come from this site. Reload the page "
                      "and try again."));
    return 0;
}

static int check_permission(struct req *r, const struct route *route)
{
    if (rbac_allows(r->user, route->perm))
        return 0;
    if (!r->user)
        return req_fail(r, 401, "unauthenticated", NULL, _("Please log in."));
    return req_fail(r, 403, "forbidden", NULL, _("You are not allowed to do this."));
}

static void reply_json(struct req *r, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    r->status = status;
    r->resp_type = "application/json; charset=utf-8";
    g_string_assign(r->resp_body, text ? text : "{}");
    free(text);
    json_decref(body);
}

void req_set_object(struct req *r, const char *key, json_t *obj)
{
    json_decref(r->data);
    r->data = json_object();
    json_object_set_new(r->data, key, obj ? obj : json_object());
    r->data_key = key;
}

void req_set_job(struct req *r, json_t *job)
{
    json_decref(r->job);
    r->job = job;
}

/* The one JSON shape of a success: {"success": true, "data": the object
 * itself (the member req_set_object named, not the page's wrapper), "meta":
 * paging of a list and the job of a 202}. */
static json_t *api_envelope(struct req *r)
{
    json_t *data = r->data_key ? json_object_get(r->data, r->data_key) : NULL;
    if (!data)
        data = r->data;
    if (!data)
        data = r->job;
    json_t *body = json_pack("{s:b}", "success", 1);
    json_object_set_new(body, "data", data ? json_incref(data) : json_object());
    json_t *meta = r->meta ? json_copy(r->meta) : NULL;
    if (r->job) {
        if (!meta)
            meta = json_object();
        json_object_set(meta, "job", r->job);
    }
    if (meta)
        json_object_set_new(body, "meta", meta);
    return body;
}

static void reply_json_error(struct req *r)
{
    compat_error_field(r);
    json_t *error = json_pack("{s:s, s:s}", "code", r->err.code, "message", r->err.message);
    if (r->err.field[0])
        json_object_set_new(error, "field", json_string(r->err.field));
    reply_json(r, r->err.status, json_pack("{s:b, s:o}", "success", 0, "error", error));
}

static void reply_redirect(struct req *r, const char *location)
{
    r->status = 303;
    g_string_truncate(r->resp_body, 0);
    if (resp_header(r, "Location", local_path(location) ? location : "/") < 0)
        resp_header(r, "Location", "/");
}

/* After a form, the next page says what happened: the redirect sets a
 * short-lived cookie naming the action (never text from the request), and
 * the page it leads to shows the message and clears it. */
#define FLASH_COOKIE "vmm_flash"

static const struct {
    const char *action, *message;
} flashes[] = {
    { "vm.create", N_("The virtual machine was created.") },
    { "vm.start", N_("The virtual machine was started.") },
    { "vm.stop", N_("The virtual machine was told to shut down.") },
    { "vm.reboot", N_("The virtual machine is rebooting.") },
    { "vm.pause", N_("The virtual machine was paused.") },
    { "vm.resume", N_("The virtual machine was resumed.") },
    { "vm.suspend", N_("The virtual machine was suspended to disk.") },
    { "vm.wakeup", N_("The virtual machine was woken up.") },
    { "vm.delete", N_("The virtual machine was deleted.") },
    { "vm.update", N_("Your changes were saved.") },
    { "vm.batch", N_("The action ran on the chosen machines; see the result of each.") },
    { "iso.delete", N_("The ISO image was deleted.") },
    { "iso.verify", N_("The check started; it shows under Tasks.") },
    { "template.delete", N_("The template was deleted.") },
    { "template.update", N_("Your changes were saved.") },
    { "upload.delete", N_("The upload was removed.") },
    { "user.create", N_("The user was created.") },
    { "user.delete", N_("The user was deleted.") },
    { "user.update", N_("Your changes were saved.") },
    { "user.update_self", N_("Your changes were saved.") },
    { "user.reset_password", N_("The password was changed.") },
    { "user.avatar_delete", N_("The picture was removed.") },
    { "quota.update", N_("The quota was saved.") },
    { "settings.update", N_("The settings were saved.") },
    { "api_token.revoke", N_("The token was revoked.") },
    { "session.end", N_("The session was ended.") },
    { "job.cancel", N_("The task was asked to stop; it does at its next step.") },
    { NULL, NULL },
};

static const char *flash_message(const char *action)
{
    for (int i = 0; action && flashes[i].action; i++)
        if (!strcmp(flashes[i].action, action))
            return flashes[i].message;
    return NULL;
}

/* The flash of a form that worked: VM actions share one audit action, so
 * theirs is named by the path's last part (/vms/7/start). */
static void flash_set(struct req *r, const struct route *route)
{
    char action[48];
    const char *last = strrchr(r->path, '/');
    if (route->action && !strcmp(route->action, "vm.action") && last)
        snprintf(action, sizeof action, "vm.%s", last + 1);
    else
        snprintf(action, sizeof action, "%s", route->action ? route->action : "");
    if (flash_message(action))
        resp_cookie(r, FLASH_COOKIE, action, 60);
}

static void flash_take(struct req *r, json_t *ctx)
{
    char *action = req_cookie(r, FLASH_COOKIE);
    const char *message = flash_message(action);
    if (action)
        resp_cookie(r, FLASH_COOKIE, "", 0);
    if (message) {
        json_object_set_new(ctx, "has_flash", json_true());
        json_object_set_new(ctx, "flash", json_string(_(message)));
    }
    g_free(action);
}

/* The nav, in order: other programs add their pages here, one line each. */
static const struct nav_item {
    const char *href;
    const char *label;   /* msgid */
    bool admin_only;
} nav_items[] = {
    { "/", N_("Dashboard"), false },
    { "/vms", N_("Virtual machines"), false },
    { "/jobs", N_("Tasks"), false },
    { "/backups", N_("Backups"), false },
    { "/isos", N_("ISO images"), false },
    { "/templates", N_("Templates"), false },
    { "/host", N_("Host"), false },
    { "/alerts", N_("Alerts"), false },
    { "/networks", N_("Networks"), true },
    { "/storage-pools", N_("Storage pools"), true },
    { "/hosts", N_("Hosts"), true },
    { "/users", N_("Users"), true },
    { "/audit-logs", N_("Audit log"), false },
    { NULL, NULL, false },
};

/* The nav for this user, the section the path is in marked current. */
static json_t *nav_for(const struct req *r)
{
    json_t *nav = json_array();
    for (const struct nav_item *n = nav_items; n->href; n++) {
        if (n->admin_only && r->user->role != ROLE_ADMIN)
            continue;
        size_t len = strlen(n->href);
        bool current = !strcmp(r->path, n->href) ||
                       (len > 1 && !strncmp(r->path, n->href, len) && r->path[len] == '/');
        json_array_append_new(nav, json_pack("{s:s, s:s, s:b}", "href", n->href, "label",
                                             _(n->label), "current", current));
    }
    return nav;
}

/* Values every page can use, in the layout and in the page itself. */
static json_t *page_context(struct req *r, const struct route *route)
{
    json_t *ctx = json_pack("{s:s, s:s, s:s, s:s}", "lang", r->lang, "csrf_token", r->csrf_token,
                            "path", r->path, "request_id", r->request_id);
    json_object_set_new(ctx, r->lang && !strcmp(r->lang, "zh-CN") ? "lang_zh" : "lang_en",
                        json_true());
    /* What live.js compares the stream's generation with (0: unknown). */
    char generation[24];
    snprintf(generation, sizeof generation, "%llu", (unsigned long long)r->generation);
    json_object_set_new(ctx, "generation", json_string(generation));
    const char *title = route && route->title ? route->title
                        : r->err.status ? N_("Something is not right") : "VMManager";
    json_object_set_new(ctx, "title", json_string(_(title)));
    if (r->user) {
        json_object_set_new(ctx, "logged_in", json_true());
        json_object_set_new(ctx, "me_id", json_integer(r->user->id));
        json_object_set_new(ctx, "me_username", json_string(r->user->username));
        json_object_set_new(ctx, "me_name", json_string(*r->user->display_name
                                                            ? r->user->display_name
                                                            : r->user->username));
        if (r->user->role == ROLE_ADMIN)
            json_object_set_new(ctx, "is_admin", json_true());
        json_object_set_new(ctx, "nav", nav_for(r));
    }
    if (r->user && !r->err.status && !is_mutating(r->method) && !r->background)
        flash_take(r, ctx);
    if (r->err.status) {
        json_object_set_new(ctx, "has_error", json_true());
        json_object_set_new(ctx, "error_message", json_string(r->err.message));
        json_object_set_new(ctx, "error_field", json_string(r->err.field));
        /* For the message beside its field: {{#error_on_threshold}}. */
        if (r->err.field[0]) {
            char key[64];
            snprintf(key, sizeof key, "error_on_%s", r->err.field);
            json_object_set_new(ctx, key, json_true());
        }
    }
    return ctx;
}

static void reply_page(struct req *r, const struct route *route, const char *page, json_t *data)
{
    json_t *ctx = page_context(r, route);
    GString *html = g_string_sized_new(16384);
    if (tpl_render_page(LAYOUT, page, data, ctx, r->lang, html) == 0) {
        g_string_assign(r->resp_body, html->str);
    } else {
        r->status = 500;
        r->resp_type = "text/plain; charset=utf-8";
        g_string_printf(r->resp_body, "Internal error (request %s)\n", r->request_id);
    }
    g_string_free(html, TRUE);
    json_decref(ctx);
}

/* The data a page template sees: the handler's object, or its list under
 * "items" with paging under "meta". */
static json_t *page_data(struct req *r)
{
    json_t *data = json_is_object(r->data) ? json_deep_copy(r->data) : json_object();
    if (json_is_array(r->data))
        json_object_set(data, "items", r->data);
    if (r->meta)
        json_object_set(data, "meta", r->meta);
    if (r->job)
        json_object_set(data, "job", r->job);
    if (r->page_extra)
        json_object_update(data, r->page_extra);
    return data;
}

/* A failed form comes back as its page, with the message and the values
 * the user typed (never passwords). */
static void reply_form_error(struct req *r, const struct route *routes)
{
    struct err err = r->err;
    const struct route *page = router_page_for(r, routes);

    json_decref(r->data);
    r->data = NULL;
    r->data_key = NULL;
    memset(&r->err, 0, sizeof r->err);
    if (page && rbac_allows(r->user, page->perm) && page->handler(r) == 0) {
        r->err = err;
        json_t *data = page_data(r);
        json_t *form = json_object();
        GHashTable *params = r->body_len ? g_uri_parse_params(r->body, (gssize)r->body_len, "&",
                                                              G_URI_PARAMS_WWW_FORM, NULL)
                                         : NULL;
        GHashTableIter it;
        gpointer key, value;
        if (params) {
            g_hash_table_iter_init(&it, params);
            while (g_hash_table_iter_next(&it, &key, &value))
                if (!strstr(key, "password") && strcmp(key, "csrf_token") &&
                    g_utf8_validate(value, -1, NULL))
                    json_object_set_new(form, key, json_string(value));
            g_hash_table_unref(params);
        }
        json_object_set_new(data, "form", form);
        r->status = err.status;
        reply_page(r, page, page->page, data);
        json_decref(data);
        return;
    }
    r->err = err;
    r->status = err.status;
    reply_page(r, NULL, "error.tpl", NULL);
}

static void reply_error(struct req *r, const struct route *route, const struct route *routes)
{
    if (r->api) {
        reply_json_error(r);
        return;
    }
    if (!strcmp(r->err.code, "unauthenticated")) {
        /* Pages send the visitor to log in and then back here. */
        char *next = g_uri_escape_string(r->path, "/", FALSE);
        char *login = g_strdup_printf("/login?next=%s", next);
        reply_redirect(r, is_mutating(r->method) ? "/login" : login);
        g_free(login);
        g_free(next);
        return;
    }
    if (route && is_mutating(r->method)) {
        reply_form_error(r, routes);
        return;
    }
    r->status = r->err.status;
    reply_page(r, NULL, "error.tpl", NULL);
}

static void reply_success(struct req *r, const struct route *route)
{
    if (r->resp_raw)
        return;
    if (r->api) {
        reply_json(r, r->status, api_envelope(r));
        return;
    }
    /* After a form, and for pages that send the visitor elsewhere. A form
     * route with its own page shows it (a new API token, shown once). */
    if (r->location || (is_mutating(r->method) && !route->page)) {
        if (is_mutating(r->method))
            flash_set(r, route);
        reply_redirect(r, r->location ? r->location : r->path);
        return;
    }
    json_t *data = page_data(r);
    reply_page(r, route, route->page ? route->page : "error.tpl", data);
    json_decref(data);
}

/* Runs the route's handler. One that fails must say why: a -1 without an
 * error, or a transaction left open, is our fault, answered 500 with the
 * request id to quote and logged, never a 200. */
static void run_handler(struct req *r, const struct route *route)
{
    int rc = route->handler(r);
    if (db_in_transaction()) {
        log_error("%s %s: the handler left a transaction open; rolled back (request %s)",
                  r->method, r->path, r->request_id);
        db_rollback();
        rc = -1;
    }
    if (rc < 0 && !r->err.status) {
        log_error("%s %s: the handler failed without an error (request %s)", r->method, r->path,
                  r->request_id);
        req_fail(r, 500, "internal_error", NULL,
                 _("Something went wrong on our side. If it happens again, tell your "
                   "administrator the request id %s."), r->request_id);
    }
}

/* The audit row's action, target and actor, before the handler runs. */
static void audit_prepare(struct req *r, const struct route *route)
{
    r->audit_action = route->action;
    if (r->nparams > 0)
        r->audit_target_id = r->params[0].num;
    if (r->user) {
        r->audit_actor_id = r->user->id;
        snprintf(r->audit_actor_name, sizeof r->audit_actor_name, "%s", r->user->username);
    }
}

/* Every GET answer carries a hash of itself as its ETag, and a client
 * that already has that answer (If-None-Match) gets a bodyless 304: a page
 * refreshing itself after a write elsewhere (static/js/live.js) costs a
 * few hundred bytes when the write did not change what it shows. */
static void etag_apply(struct req *r)
{
    if (r->resp_raw || r->status != 200 ||
        (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")))
        return;
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA1);
    g_checksum_update(sum, (const guchar *)r->resp_type, -1);
    for (guint i = 0; i < r->resp_headers->len; i++)
        g_checksum_update(sum, g_ptr_array_index(r->resp_headers, i), -1);
    /* A page's data-generation (on its <body>) moves with every write
     * anywhere; the hash is of what the page shows, so it is left out. */
    const char *body = r->resp_body->str, *end = body + r->resp_body->len;
    const char *gen = g_strstr_len(body, MIN(r->resp_body->len, 1024), "data-generation=\"");
    if (gen) {
        g_checksum_update(sum, (const guchar *)body, gen - body);
        body = strchr(gen + strlen("data-generation=\""), '"');
        body = body ? body + 1 : end;
    }
    g_checksum_update(sum, (const guchar *)body, end - body);
    char etag[32];
    snprintf(etag, sizeof etag, "\"%.24s\"", g_checksum_get_string(sum));
    g_checksum_free(sum);
    resp_header(r, "ETag", etag);
    if (r->if_none_match && strstr(r->if_none_match, etag)) {
        r->status = 304;
        g_string_truncate(r->resp_body, 0);
    }
}

void app_handle(struct req *r, const struct route *routes)
{
    const struct route *route = NULL;
    struct generation_mark mark = { 0, 0 };

    /* API clients may authenticate with a bearer token instead of the
     * session cookie; a token that does not hold is a 401, never a
     * fallback to the cookie. */
    bool token_refused = false;
    if (!r->err.status)
        compat_route(r);
    if (!r->err.status && r->api && api_token_present(r))
        token_refused = api_token_resume(r) < 0;
    else if (!r->err.status && session_resume(r) < 0)
        fail_db(r);
    choose_language(r);
    ensure_form_csrf_cookie(r);
    if (r->err.status) {
        /* A write with a bad token (revoked, a disabled user's) is an
         * attempt the audit log must show. */
        if (token_refused && is_mutating(r->method) && (route = router_match(r, routes))) {
            audit_prepare(r, route);
            audit_record(r);
        }
        goto done;
    }

    route = router_match(r, routes);
    if (!route)
        goto done;

    if (is_mutating(r->method)) {
        /* Every mutating request that reaches a route leaves one audit
         * row, refused or not. */
        audit_prepare(r, route);
        if (check_permission(r, route) == 0 && check_csrf(r) == 0 &&
            compat_body(r, route) == 0 &&
            (route->raw_body || input_parse(r, route->fields) == 0))
            run_handler(r, route);
        audit_record(r);
    } else if (check_permission(r, route) == 0) {
        /* A page with a message to show is rendered, not replayed. */
        char *flash = req_cookie(r, FLASH_COOKIE);
        bool replayed = route->cached && !flash && resp_cache_replay(r);
        g_free(flash);
        if (replayed)
            goto replied;
        mark = generation_mark();
        r->generation = mark.generation;
        run_handler(r, route);
    }

done:
    if (r->err.status)
        reply_error(r, route, routes);
    else
        reply_success(r, route);
    if (route && route->cached && !is_mutating(r->method))
        resp_cache_keep(r, mark);
replied:
    etag_apply(r);
    if (!strcmp(r->method, "HEAD"))
        g_string_truncate(r->resp_body, 0);
}

int app_init(const char *program)
{
    log_init(program);
    if (config_load() < 0)
        return -1;
    i18n_init(config_str("paths", "locale_dir", VMM_LOCALE_DIR));
    tpl_init(config_str("paths", "templates_dir", VMM_TEMPLATES_DIR));
    /* Not fatal: requests answer 503 until the database is back. */
    if (db_connect() < 0)
        log_warn("starting without a database connection");
    return 0;
}

/* Reads exactly content_length bytes, or fails. */
static int read_body(FCGX_Request *fr, struct req *r)
{
    long long max = config_int("http", "max_body_bytes", 1 << 20);
    if (r->content_length <= 0)
        return 0;
    if (r->content_length > max)
        return req_fail(r, 413, "body_too_large", NULL, _("The request body is too large."));
    size_t len = (size_t)r->content_length;
    char *body = g_malloc(len + 1);
    int got = FCGX_GetStr(body, (int)len, fr->in);
    if (got < 0 || (size_t)got != len) {
        g_free(body);
        return req_fail(r, 400, "short_body", NULL, _("The request body is shorter than announced."));
    }
    body[len] = '\0';
    return req_set_body(r, body, len);
}

long req_body_read(struct req *r, void *buf, size_t n)
{
    if (!r->body_in || r->content_length < 0)
        return -1;
    long long left = r->content_length - r->body_done;
    if (left <= 0)
        return 0;
    if ((long long)n > left)
        n = (size_t)left;
    if (n > INT_MAX)
        n = INT_MAX;
    /* Fewer bytes than asked only at the end of the stream: the next call
     * then gets none and says the body was cut short. */
    int got = FCGX_GetStr(buf, (int)n, r->body_in);
    if (got <= 0)
        return -1;
    r->body_done += got;
    return got;
}

/* What a handler left of a streamed body is read and dropped: nginx sends
 * it all before it takes the answer. */
static void body_drain(struct req *r)
{
    char scratch[65536];
    while (req_body_read(r, scratch, sizeof scratch) > 0)
        ;
}

static const char *perm_name(enum perm perm)
{
    return perm == PERM_ADMIN ? "admin" : perm == PERM_USER ? "user" : "anon";
}

static const char *kind_name(enum route_kind kind)
{
    return kind == ROUTE_API ? "api" : kind == ROUTE_PAGE ? "page" : "both";
}

static const char *reply_name(enum route_reply reply)
{
    static const char *const names[] = {
        [REPLY_OBJECT] = "object", [REPLY_LIST] = "list", [REPLY_CREATED] = "created",
        [REPLY_JOB] = "job", [REPLY_EMPTY] = "empty", [REPLY_RAW] = "raw",
        [REPLY_ITEMS] = "items",
    };
    return names[reply];
}

/* One route as the authorization test and tools/vmm-openapi read it: all
 * the table says about it, the body as the JSON Schema input_parse checks. */
static json_t *route_describe(const struct route *route)
{
    json_t *line = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "method", route->method, "pattern",
                             route->pattern, "perm", perm_name(route->perm), "kind",
                             kind_name(route->kind), "reply", reply_name(route->reply), "raw_body",
                             route->raw_body);
    if (route->action)
        json_object_set_new(line, "action", json_string(route->action));
    if (route->summary)
        json_object_set_new(line, "summary", json_string(route->summary));
    if (route->title)
        json_object_set_new(line, "title", json_string(route->title));
    if (is_mutating(route->method) && !route->raw_body) {
        json_t *body = input_schema(route->fields);
        compat_describe_body(route, body);
        json_object_set_new(line, "body", body);
    }
    json_t *statuses = json_array();
    for (const int *s = route->statuses; s && *s; s++)
        json_array_append_new(statuses, json_integer(*s));
    json_object_set_new(line, "statuses", statuses);
    return line;
}

void app_print_routes(const struct route *routes, FILE *out)
{
    for (const struct route *route = routes; route->method; route++) {
        json_t *line = route_describe(route);
        char *text = json_dumps(line, JSON_COMPACT);
        fprintf(out, "%s\n", text);
        free(text);
        json_decref(line);
    }
}

int app_run(const char *program, const struct route *routes)
{
    /* VMM_LIST_ROUTES=1 cgi-bin/vmm-x prints the route table and exits
     * (the authorization matrix test enumerates every route this way). */
    const char *list = getenv("VMM_LIST_ROUTES");
    if (list && !strcmp(list, "1")) {
        app_print_routes(routes, stdout);
        return 0;
    }
    if (app_init(program) < 0)
        return 1;
    if (FCGX_Init() != 0)
        return 1;

    FCGX_Request fr;
    FCGX_InitRequest(&fr, 0, 0);
    struct req r;
    req_init(&r);
    GString *out = g_string_sized_new(65536);

    while (FCGX_Accept_r(&fr) >= 0) {
        req_reset(&r);
        if (req_parse_env(&r, fr.envp) == 0) {
            if (r.body_stream)
                r.body_in = fr.in;
            else
                read_body(&fr, &r);
        }
        log_set_request_id(r.request_id);
        app_handle(&r, routes);
        if (r.body_stream)
            body_drain(&r);

        g_string_truncate(out, 0);
        resp_serialize(&r, out);
        FCGX_PutStr(out->str, (int)out->len, fr.out);
        FCGX_Finish_r(&fr);
        log_set_request_id(NULL);
    }
    return 0;
}
