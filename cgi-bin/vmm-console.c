/* vmm-console: the browser console. A VM's VNC listens on 127.0.0.1 with
 * QEMU's own websocket; nothing else serves it.
 *
 *   GET /vms/{id}/console          the page (noVNC, static/js/console.js)
 *   GET /api/v1/vms/{id}/console   a one-time token for /console/ws, bound
 *                                  to the caller and the VM, good for 60 s
 *   GET /api/v1/console/ws         nginx's auth_request for /console/ws:
 *                                  session, right to the VM, token (used
 *                                  up here); answers the websocket port in
 *                                  X-Console-Port, the only place nginx
 *                                  takes it from.
 *
 * The token travels as a websocket subprotocol (Sec-WebSocket-Protocol:
 * binary, vmm-ticket.<token>), never in the URL: nginx writes the request
 * line into its error log when an upstream fails, and no header. Only the
 * token's SHA-256 is stored. The VNC password goes out only in the
 * token's JSON, which the page's script fetches; see docs/api.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "audit.h"
#include "db.h"
#include "helper_client.h"
#include "i18n.h"
#include "rbac.h"
#include "token.h"
#include "user.h"

#define CONSOLE_TOKEN_TTL_S 60
/* The subprotocol that carries the token; QEMU's websocket wants "binary"
 * beside it (nginx passes only "binary" on). */
#define CONSOLE_TICKET_PROTOCOL "vmm-ticket."

/* The VM of the path if the caller may see it (id, name, state), else a
 * 404, the same answer as for a VM that does not exist. */
static json_t *vm_visible(struct req *r, long long id)
{
    struct db_rows *rows = db_query("SELECT id, name, state, owner_id FROM vms WHERE id = ?",
                                    DB_INT(id));
    if (!rows) {
        fail_db(r);
        return NULL;
    }
    json_t *vm = NULL;
    if (rows->nrows == 1 && rbac_may_touch(r->user, db_cell_int(rows, 0, 3, 0)))
        vm = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)db_cell_int(rows, 0, 0, 0), "name",
                       db_cell(rows, 0, 1), "state", db_cell(rows, 0, 2));
    else
        req_fail(r, 404, "not_found", NULL, _("There is no such virtual machine."));
    db_rows_free(rows);
    return vm;
}

/* Where the live websocket of VM id is, from the helper (which checks the
 * actor's right again): {ws_port, and for a VM on another host (issue 19)
 * host, and with ticket a one-time password}, or NULL: 409 when the VM is
 * not running (or its host's console cannot be reached). */
static json_t *console_where(struct req *r, long long id, bool ticket)
{
    json_t *args = json_pack("{s:I, s:b}", "vm_id", (json_int_t)id, "ticket", ticket);
    json_t *where = helper_call(r, "vm.console", args);
    json_decref(args);
    if (!where) {
        if (r->err.status == 409 && !strcmp(r->err.code, "not_running"))
            snprintf(r->err.message, sizeof r->err.message, "%s",
                     _("The virtual machine is not running. Start it to use its console."));
        else if (r->err.status == 409 && !strcmp(r->err.code, "console_remote"))
            snprintf(r->err.message, sizeof r->err.message, "%s",
                     _("The console of this virtual machine listens only on its host's own "
                       "loopback; restart or migrate it to use its console."));
        return NULL;
    }
    long long port = json_integer_value(json_object_get(where, "ws_port"));
    if (port < 1 || port > 65535) {
        json_decref(where);
        req_fail(r, 502, "no_console", NULL, _("The console of this virtual machine cannot be reached."));
        return NULL;
    }
    return where;
}

static int console_page(struct req *r)
{
    json_t *vm = vm_visible(r, req_param(r, "id")->num);
    if (!vm)
        return -1;
    req_set_object(r, "vm", vm);
    return 0;
}

/* Records who opened which console (a GET, so lib/ does not). */
static void audit_console(struct req *r, long long vm_id)
{
    r->audit_action = "vm.console";
    r->audit_target_id = vm_id;
    r->audit_actor_id = r->user->id;
    snprintf(r->audit_actor_name, sizeof r->audit_actor_name, "%s", r->user->username);
    audit_record(r);
}

static int console_token(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *vm = vm_visible(r, id);
    if (!vm)
        return -1;
    json_decref(vm);
    json_t *where = console_where(r, id, true);
    int rc = where ? 0 : -1;

    char token[TOKEN_HEX_LEN + 1], digest[TOKEN_HEX_LEN + 1];
    struct db_rows *rows = NULL;
    if (rc == 0 && token_new(token) < 0)
        rc = req_fail(r, 503, "no_randomness", NULL, _("No token could be made. Try again."));
    if (rc == 0) {
        token_digest(token, digest);
        /* Spent and expired tokens go after a day; nothing needs them. */
        db_exec("DELETE FROM console_tokens WHERE expires_at < UTC_TIMESTAMP() - INTERVAL 1 DAY");
        if (db_exec("INSERT INTO console_tokens (digest, user_id, vm_id, expires_at) VALUES "
                    "(?, ?, ?, UTC_TIMESTAMP() + INTERVAL ? SECOND)",
                    DB_TEXT(digest), DB_INT(r->user->id), DB_INT(id),
                    DB_INT(CONSOLE_TOKEN_TTL_S)) < 0 ||
            !(rows = db_query("SELECT DATE_FORMAT(t.expires_at, '%Y-%m-%dT%TZ'), v.vnc_password "
                              "FROM console_tokens t JOIN vms v ON v.id = t.vm_id "
                              "WHERE t.digest = ?", DB_TEXT(digest))) ||
            rows->nrows != 1)
            rc = fail_db(r);
    }
    if (rc == 0) {
        char *ws_path = g_strdup_printf("/console/ws?vm=%lld", id);
        char *ticket = g_strdup_printf(CONSOLE_TICKET_PROTOCOL "%s", token);
        /* A VM on another host: its one-time password, not the row's. */
        const char *once = json_string_value(json_object_get(where, "password"));
        r->data = json_pack("{s:s, s:s, s:[s, s], s:s, s:s?}", "type", "vnc", "ws_path", ws_path,
                            "ws_protocols", "binary", ticket, "expires_at", db_cell(rows, 0, 0),
                            "password", once ? once : db_cell(rows, 0, 1));
        explicit_bzero(ticket, strlen(ticket));
        g_free(ticket);
        g_free(ws_path);
    }
    json_decref(where);
    db_rows_free(rows);
    audit_console(r, id);
    return rc;
}

/* "a name" with nothing that could end the line or the key (a .vv is an
 * INI file): controls become spaces. Newly allocated. */
static char *vv_value(const char *text)
{
    char *out = g_strdup(text ? text : "");
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    return out;
}

/* GET /vms/{id}/console/spice (issue 20): a virt-viewer file for
 * remote-viewer with a one-time password the helper has just set on the
 * running domain, good for [console] spice_ticket_s; remote-viewer
 * deletes the file once read. Not cached anywhere. */
static int console_spice(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *vm = vm_visible(r, id);
    if (!vm)
        return -1;
    json_t *args = json_pack("{s:I}", "vm_id", (json_int_t)id);
    json_t *ticket = helper_call(r, "vm.spice_ticket", args);
    json_decref(args);
    audit_console(r, id);
    if (!ticket) {
        if (r->err.status == 409 && !strcmp(r->err.code, "not_running"))
            snprintf(r->err.message, sizeof r->err.message, "%s",
                     _("The virtual machine is not running. Start it to use its console."));
        else if (r->err.status == 409 && !strcmp(r->err.code, "no_spice"))
            snprintf(r->err.message, sizeof r->err.message, "%s",
                     _("This virtual machine's graphics are VNC: use its browser console, or "
                       "change its graphics to SPICE while it is stopped."));
        json_decref(vm);
        return -1;
    }
    char *title = vv_value(json_string_value(json_object_get(vm, "name")));
    char *host = vv_value(json_string_value(json_object_get(ticket, "host")));
    g_string_append_printf(r->resp_body,
                           "[virt-viewer]\n"
                           "type=spice\n"
                           "host=%s\n"
                           "port=%lld\n"
                           "password=%s\n"
                           "delete-this-file=1\n"
                           "title=%s\n"
                           "secure-attention=ctrl+alt+end\n"
                           "release-cursor=shift+f12\n"
                           "toggle-fullscreen=shift+f11\n",
                           host, (long long)json_integer_value(json_object_get(ticket, "port")),
                           json_string_value(json_object_get(ticket, "password")), title);
    char *disposition = g_strdup_printf("attachment; filename=\"vm-%lld.vv\"", id);
    resp_header(r, "Content-Disposition", disposition);
    resp_header(r, "X-Password-Valid-To", json_string_value(json_object_get(ticket, "valid_to")));
    r->resp_type = "application/x-virt-viewer";
    r->resp_raw = true;
    g_free(disposition);
    g_free(title);
    g_free(host);
    json_decref(ticket);
    json_decref(vm);
    return 0;
}

/* Uses up the token of the websocket's subprotocols if it is fresh, the
 * caller's, and for the VM the query names; any failure is a 403. A token
 * presented by someone else (or for another VM) is refused without being
 * used up, so its owner can still connect with it. (A token in the query,
 * the old form, never gets here: nginx refuses it, see server.conf.in.) */
static int token_consume(struct req *r, long long *vm_id)
{
    const char *vm = req_query(r, "vm");
    char token[TOKEN_HEX_LEN + 1], digest[TOKEN_HEX_LEN + 1], *end = NULL;
    long long want = vm ? strtoll(vm, &end, 10) : 0;
    if (token_from_protocols(req_env(r, "HTTP_SEC_WEBSOCKET_PROTOCOL"), CONSOLE_TICKET_PROTOCOL,
                             token) < 0 ||
        !vm || !*vm || *end || want <= 0)
        return req_fail(r, 403, "bad_token", NULL, _("The console link is not valid."));
    token_digest(token, digest);
    explicit_bzero(token, sizeof token);

    /* One statement checks and uses it up: two connections racing with
     * one token cannot both see it unused, and a refusal changes nothing. */
    unsigned long long used = 0;
    if (db_exec_count("UPDATE console_tokens SET used_at = UTC_TIMESTAMP() WHERE digest = ? AND "
                      "used_at IS NULL AND expires_at > UTC_TIMESTAMP() AND user_id = ? AND "
                      "vm_id = ?", &used, DB_TEXT(digest), DB_INT(r->user->id),
                      DB_INT(want)) < 0)
        return fail_db(r);
    if (used == 1) {
        *vm_id = want;
        return 0;
    }
    /* Why not: only to choose the message. */
    struct db_rows *rows = db_query("SELECT user_id = ? AND vm_id = ? FROM console_tokens "
                                    "WHERE digest = ?", DB_INT(r->user->id), DB_INT(want),
                                    DB_TEXT(digest));
    if (!rows)
        return fail_db(r);
    bool foreign = rows->nrows == 1 && db_cell_int(rows, 0, 0, 0) == 0;
    db_rows_free(rows);
    if (foreign)
        return req_fail(r, 403, "wrong_token", NULL,
                        _("This console link belongs to another user or machine."));
    return req_fail(r, 403, "token_spent", NULL,
                    _("The console link has expired or was already used. Reconnect."));
}

/* auth_request only passes 401 and 403 through (anything else becomes a
 * 500), so a 404 or 409 travels as a 403 with the real status beside it,
 * for nginx's error page to answer with. */
static int console_auth(struct req *r)
{
    long long vm_id = 0;
    json_t *vm = NULL, *where = NULL;
    if (token_consume(r, &vm_id) == 0 && (vm = vm_visible(r, vm_id)) != NULL)
        where = console_where(r, vm_id, false);
    json_decref(vm);
    if (!where) {
        if (r->err.status != 401 && r->err.status != 403) {
            char status[16];
            snprintf(status, sizeof status, "%d", r->err.status);
            resp_header(r, "X-Console-Status", status);
            r->err.status = 403;
        }
        return -1;
    }
    char value[16];
    snprintf(value, sizeof value, "%lld", (long long)json_integer_value(json_object_get(where, "ws_port")));
    resp_header(r, "X-Console-Port", value);
    /* Issue 19: QEMU on another host, at that host's address (an IPv4
     * literal the helper read from the live domain; nginx checks it too). */
    const char *host = json_string_value(json_object_get(where, "host"));
    if (host)
        resp_header(r, "X-Console-Host", host);
    json_decref(where);
    r->data = json_pack("{s:I}", "vm_id", (json_int_t)vm_id);
    return 0;
}

static const struct route routes[] = {
    { "GET", "/vms/{id:int}/console", console_page, PERM_USER, ROUTE_PAGE, "console.tpl",
      N_("Console") },
    { "GET", "/vms/{id:int}/console", console_token, PERM_USER, ROUTE_API,
      .summary = "A one-time ticket for the VM's VNC console (websocket path, the subprotocols that carry the token, expiry)", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 409, 502) },
    { "GET", "/vms/{id:int}/console/spice", console_spice, PERM_USER, ROUTE_API,
      .summary = "A SPICE VM's virt-viewer (.vv) file with a one-time password", .reply = REPLY_RAW,
      .statuses = STATUSES(404, 409, 502) },
    { "GET", "/console/ws", console_auth, PERM_USER, ROUTE_API,
      .summary = "nginx's check of a console ticket (internal: not reachable from outside)", .reply = REPLY_RAW,
      .statuses = STATUSES(403, 404, 502) },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
