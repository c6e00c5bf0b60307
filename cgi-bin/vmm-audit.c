/* vmm-audit: what happened, for the admin and for each user about
 * themselves: the audit log (filters, paging, CSV), login history, the
 * history of changes (before and after) and of VM operations. A normal
 * user sees only rows where they are the actor (or the login user). */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "audit_list.h"
#include "audit_text.h"
#include "i18n.h"
#include "user.h"

static const char *const filter_names[] = {
    "actor", "action", "target_type", "target_id", "result", "ip", "from", "to", "username", NULL,
};

/* The query string without page/format, for the page's links. */
static char *query_without_paging(const struct req *r)
{
    GString *out = g_string_new(NULL);
    for (const char *const *name = filter_names; *name; name++) {
        const char *value = req_query(r, *name);
        if (!value || !*value)
            continue;
        char *escaped = g_uri_escape_string(value, NULL, FALSE);
        g_string_append_printf(out, "%s%s=%s", out->len ? "&" : "", *name, escaped);
        g_free(escaped);
    }
    return g_string_free(out, FALSE);
}

/* {key: {"href": href}}: a section the template shows only when set. */
static void set_link(json_t *data, const char *key, char *href)
{
    json_object_set_new(data, key, json_pack("{s:s}", "href", href));
    g_free(href);
}

/* Pages get the list under "items" with the filters typed so far, links
 * to the previous and next page and to the CSV export. */
static int page_extras(struct req *r, int rc)
{
    if (rc < 0 || r->api || r->resp_raw)
        return rc;
    json_t *filters = json_object();
    for (const char *const *name = filter_names; *name; name++) {
        const char *value = req_query(r, *name);
        if (value && g_utf8_validate(value, -1, NULL))
            json_object_set_new(filters, *name, json_string(value));
    }
    char *query = query_without_paging(r);
    long long page = json_integer_value(json_object_get(r->meta, "page"));
    long long per_page = json_integer_value(json_object_get(r->meta, "per_page"));
    long long total = json_integer_value(json_object_get(r->meta, "total"));
    const char *sep = *query ? "&" : "";
    json_t *data = json_pack("{s:O, s:o}", "items", r->data, "filters", filters);
    set_link(data, "csv", g_strdup_printf("/api/v1%s?format=csv%s%s", r->route_path, sep,
                                               query));
    if (page > 1)
        set_link(data, "prev",
                 g_strdup_printf("%s?page=%lld%s%s", r->route_path, page - 1, sep, query));
    if (page * per_page < total)
        set_link(data, "next",
                 g_strdup_printf("%s?page=%lld%s%s", r->route_path, page + 1, sep, query));
    bool admin = r->user->role == ROLE_ADMIN;
    json_object_set_new(data, "all_users", json_boolean(admin));
    json_object_set_new(filters, "all_users", json_boolean(admin));
    g_free(query);
    json_decref(r->data);
    r->data = data;
    return 0;
}

/* Audit rows, page and API alike, say what happened in words. */
static int in_words(struct req *r, int rc)
{
    if (rc == 0 && !r->resp_raw)
        audit_rows_in_words(r->data);
    return rc;
}

/* Admins see everyone's rows; anyone else only their own. */
static long long own_scope(const struct req *r)
{
    return r->user->role == ROLE_ADMIN ? 0 : r->user->id;
}

static int audit_logs(struct req *r)
{
    struct audit_scope scope = { .actor_id = own_scope(r) };
    return page_extras(r, in_words(r, audit_list(r, &scope)));
}

static int history_logins(struct req *r)
{
    return page_extras(r, login_history_list(r, own_scope(r)));
}

static int history_changes(struct req *r)
{
    struct audit_scope scope = { .actor_id = own_scope(r), .changes_only = true };
    return page_extras(r, in_words(r, audit_list(r, &scope)));
}

static int history_vm_operations(struct req *r)
{
    struct audit_scope scope = { .actor_id = own_scope(r), .target_type = "vm" };
    return page_extras(r, in_words(r, audit_list(r, &scope)));
}

static const struct route routes[] = {
    { "GET", "/audit-logs", audit_logs, PERM_USER, ROUTE_BOTH, "audit.tpl", N_("Audit log"),
      .summary = "The audit log (filters: actor, action, target, result, ip, time range)", .reply = REPLY_LIST },
    { "GET", "/history/logins", history_logins, PERM_USER, ROUTE_BOTH, "history_logins.tpl",
      N_("Login history"),
      .summary = "Login history", .reply = REPLY_LIST },
    { "GET", "/history/changes", history_changes, PERM_USER, ROUTE_BOTH, "history_changes.tpl",
      N_("Change history"),
      .summary = "Change history", .reply = REPLY_LIST },
    { "GET", "/history/vm-operations", history_vm_operations, PERM_USER, ROUTE_BOTH,
      "history_vms.tpl", N_("VM operation history"),
      .summary = "VM operation history", .reply = REPLY_LIST },
    { NULL },
};

int main(int argc, char **argv)
{
    (void)argc;
    return app_run(argv[0], routes);
}
