#include "audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "user.h"

void audit_change(struct req *r, const char *field, json_t *before, json_t *after)
{
    json_t *b = before ? before : json_null();
    json_t *a = after ? after : json_null();
    if (json_equal(b, a))
        return;
    if (!r->audit_changes)
        r->audit_changes = json_object();
    json_object_set_new(r->audit_changes, field, json_pack("{s:O, s:O}", "before", b, "after", a));
}

void audit_change_secret(struct req *r, const char *field)
{
    json_t *before = json_string("(hidden)");
    json_t *after = json_string("(changed)");
    audit_change(r, field, before, after);
    json_decref(before);
    json_decref(after);
}

void audit_changes_between(struct req *r, json_t *before, json_t *after,
                           const char *const *skip)
{
    const char *key;
    json_t *value;
    json_object_foreach(after, key, value) {
        bool skipped = false;
        for (const char *const *s = skip; s && *s; s++)
            skipped = skipped || !strcmp(*s, key);
        if (!skipped)
            audit_change(r, key, json_object_get(before, key), value);
    }
}

int audit_insert(const struct audit_row *row)
{
    return db_exec(
        "INSERT INTO audit_log (created_at, actor_id, actor_name, action, target_type, "
        "target_id, result, status, detail, changes, ip, user_agent, request_id) "
        "VALUES (UTC_TIMESTAMP(3), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, LEFT(?, 255), ?)",
        row->actor_id > 0 ? DB_INT(row->actor_id) : DB_NULL, DB_TEXT(row->actor_name),
        DB_TEXT(row->action), DB_TEXT(row->target_type),
        row->target_id > 0 ? DB_INT(row->target_id) : DB_NULL,
        DB_TEXT(row->ok ? "success" : "failure"), DB_INT(row->status), DB_TEXT(row->detail),
        row->changes ? DB_TEXT(row->changes) : DB_NULL, DB_TEXT(row->ip ? row->ip : ""),
        DB_TEXT(row->user_agent ? row->user_agent : ""),
        DB_TEXT(row->request_id ? row->request_id : ""));
}

int audit_record(struct req *r)
{
    const char *action = r->audit_action ? r->audit_action : "unknown";
    char target_type[32];
    snprintf(target_type, sizeof target_type, "%.*s", (int)strcspn(action, "."), action);

    bool ok = r->err.status == 0;
    json_t *detail = r->audit_detail ? json_incref(r->audit_detail) : json_object();
    if (!ok) {
        json_object_set_new(detail, "error", json_string(r->err.code));
        if (r->err.field[0])
            json_object_set_new(detail, "field", json_string(r->err.field));
    }
    /* The actor is whoever is logged in after the handler (a login), else
     * whoever asked (a logout ends the session before this row). */
    long long actor_id = r->user ? r->user->id : r->audit_actor_id;
    const char *actor_name = r->user ? r->user->username : r->audit_actor_name;
    if (r->api_token_id > 0)
        json_object_set_new(detail, "api_token_id", json_integer(r->api_token_id));
    char *detail_text = json_dumps(detail, JSON_COMPACT);
    json_decref(detail);
    /* A refused change changed nothing. */
    char *changes_text = ok && r->audit_changes && json_object_size(r->audit_changes)
                             ? json_dumps(r->audit_changes, JSON_COMPACT)
                             : NULL;

    int rc = audit_insert(&(struct audit_row){
        .actor_id = actor_id, .actor_name = actor_name, .action = action,
        .target_type = target_type, .target_id = r->audit_target_id, .ok = ok,
        .status = ok ? r->status : r->err.status, .detail = detail_text,
        .changes = changes_text, .ip = r->remote_addr, .user_agent = r->user_agent,
        .request_id = r->request_id });
    if (rc < 0)
        log_error("audit row for %s was not written", r->audit_action);
    free(detail_text);
    free(changes_text);
    return rc;
}
