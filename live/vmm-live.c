/* vmm-live: the live feeds of the VoidVM guide over one WebSocket
 * (/api/v1/ws through nginx): a VM's metrics every `interval` ms and a
 * job's progress as it moves. It only reads what others write: the
 * samples the helper keeps (lib/metrics_store.h), the jobs table, and the
 * write generation (lib/generation.h) that says when to look at it again.
 * So it runs unprivileged (user vmm), holds no state worth keeping, and a
 * restart costs the clients a reconnect.
 *
 * libwebsockets (Debian's libwebsockets-dev) does the protocol: frames,
 * masking, the handshake, pings and hang-ups of dead peers; this file is
 * the authentication at the handshake and the topics (live/feeds.c).
 *
 * Who may connect (checked on the HTTP upgrade, answered 401/403 there):
 * - an API token, as the guide sends it (?token=vmm_...) or as
 *   "Authorization: Bearer"; a token in the query is accepted on this
 *   handshake only (nginx logs this location without its query);
 * - a browser's session cookie, when the Origin names this very host (a
 *   page of another site cannot open a socket with our cookie).
 * The credential is checked again every [live] auth_check_s; a revoked
 * token or an ended session closes the socket (4401). */
#define _GNU_SOURCE
#include <libwebsockets.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_token.h"
#include "config.h"
#include "db.h"
#include "feeds.h"
#include "http.h"
#include "i18n.h"
#include "log.h"
#include "session.h"
#include "token.h"
#include "user.h"

#define TICK_MS 200

static struct lws_context *context;
static lws_sorted_usec_list_t tick_sul;
static GList *conns;                /* struct live_conn *, the established sockets */
static GHashTable *pending;         /* wsi -> struct live_conn *, between handshake and open */
static long idle_ms, auth_check_ms;
static volatile sig_atomic_t stopping;

int64_t live_now_ms(void)
{
    return (int64_t)(lws_now_usecs() / 1000);
}

/* Who the credential names, or NULL (unknown, revoked, disabled, expired).
 * *db_down is set when the database could not say. */
static struct user *credential_user(const struct live_conn *c, bool *db_down)
{
    static struct req r;
    static bool ready;
    if (!ready) {
        req_init(&r);
        ready = true;
    }
    req_reset(&r);
    /* Listening is not activity: a session may still time out. */
    r.background = true;
    char *header = g_strdup_printf(c->by_token ? "Bearer %s" : SESSION_COOKIE "=%s", c->credential);
    int rc;
    if (c->by_token) {
        r.authorization = header;
        rc = api_token_resume(&r);
    } else {
        r.cookie_header = header;
        rc = session_resume(&r);
    }
    *db_down = rc < 0 && (!c->by_token || r.err.status == 503);
    struct user *user = rc == 0 ? r.user : NULL;
    if (user)
        r.user = NULL;
    req_reset(&r);
    g_free(header);
    return user;
}

static char *header_copy(struct lws *wsi, enum lws_token_indexes h)
{
    int len = lws_hdr_total_length(wsi, h);
    if (len <= 0 || len > HTTP_MAX_HEADER_BYTES)
        return NULL;
    char *buf = g_malloc((size_t)len + 1);
    if (lws_hdr_copy(wsi, buf, len + 1, h) < 0) {
        g_free(buf);
        return NULL;
    }
    return buf;
}

/* The authority of "scheme://host[:port]" (NULL: not that shape). */
static const char *origin_authority(const char *origin)
{
    const char *p = origin ? strstr(origin, "://") : NULL;
    if (!p || strchr(p + 3, '/'))
        return NULL;
    return p + 3;
}

/* A browser's socket: its Origin must be this host, as the browser
 * reached it (nginx passes Host on), or one of [live] allowed_origins. */
static bool origin_allowed(struct lws *wsi)
{
    char *origin = header_copy(wsi, WSI_TOKEN_ORIGIN);
    char *host = header_copy(wsi, WSI_TOKEN_HOST);
    const char *authority = origin_authority(origin);
    bool ok = authority && host && !g_ascii_strcasecmp(authority, host);
    if (!ok && origin) {
        gchar **allowed = g_strsplit(config_str("live", "allowed_origins", ""), ",", -1);
        for (gchar **a = allowed; *a && !ok; a++)
            ok = **a && !strcmp(g_strstrip(*a), origin);
        g_strfreev(allowed);
    }
    g_free(origin);
    g_free(host);
    return ok;
}

/* The credential the handshake offers: token (query or bearer header) or
 * session cookie. Which one, and whether any, in c. */
static void offered_credential(struct lws *wsi, struct live_conn *c)
{
    char buf[API_TOKEN_LEN + 16];
    const char *q = lws_get_urlarg_by_name(wsi, "token=", buf, (int)sizeof buf);
    if (q) {
        c->by_token = true;
        c->credential = g_strdup(q);
        return;
    }
    char *auth = header_copy(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (auth && !g_ascii_strncasecmp(auth, "Bearer ", 7)) {
        c->by_token = true;
        c->credential = g_strdup(g_strstrip(auth + 7));
        g_free(auth);
        return;
    }
    g_free(auth);
    struct req r = { 0 };
    char *cookie = header_copy(wsi, WSI_TOKEN_HTTP_COOKIE);
    r.cookie_header = cookie;
    char *session = cookie ? req_cookie(&r, SESSION_COOKIE) : NULL;
    g_free(cookie);
    if (session && token_well_formed(session)) {
        c->by_token = false;
        c->credential = session;
        return;
    }
    g_free(session);
}

/* Answers the handshake itself (401, 403, 503) with a JSON error. */
static int refuse(struct lws *wsi, unsigned int status, const char *code, const char *message)
{
    unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf;
    json_t *body = json_pack("{s:b, s:{s:s, s:s}}", "success", 0, "error", "code", code,
                             "message", message);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    size_t len = strlen(text);
    if (lws_add_http_common_headers(wsi, status, "application/json", (lws_filepos_t)len, &p, end) ||
        (status == 401 &&
         lws_add_http_header_by_name(wsi, (const unsigned char *)"WWW-Authenticate:",
                                     (const unsigned char *)"Bearer realm=\"vmmanager\"", 24, &p,
                                     end)) ||
        lws_finalize_write_http_header(wsi, start, &p, end)) {
        free(text);
        return -1;
    }
    lws_write(wsi, (unsigned char *)text, len, LWS_WRITE_HTTP_FINAL);
    free(text);
    return 1;
}

/* The HTTP upgrade: authenticate, or answer it ourselves. */
static int confirm_upgrade(struct lws *wsi)
{
    struct live_conn *c = live_conn_new();
    offered_credential(wsi, c);
    if (!c->credential) {
        live_conn_free(c);
        return refuse(wsi, 401, "unauthenticated",
                      _("Give an API token (?token= or Authorization: Bearer) or log in."));
    }
    if (!c->by_token && !origin_allowed(wsi)) {
        live_conn_free(c);
        return refuse(wsi, 403, "forbidden_origin",
                      _("This socket may only be opened from the portal's own pages."));
    }
    bool db_down = false;
    c->user = credential_user(c, &db_down);
    if (!c->user) {
        live_conn_free(c);
        if (db_down)
            return refuse(wsi, 503, "database_unavailable",
                          _("The database is not available. Try again shortly."));
        return refuse(wsi, 401, "invalid_token",
                      _("The API token or session is not valid: unknown, revoked, expired or its "
                        "user is disabled."));
    }
    g_hash_table_replace(pending, wsi, c);
    return 0;
}

/* Closes c's socket at its next write with code and reason. */
void live_close(struct live_conn *c, int code, const char *reason)
{
    if (c->close_code)
        return;
    c->close_code = code;
    snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
    lws_callback_on_writable(c->wsi);
}

void live_send(struct live_conn *c, json_t *message)
{
    char *text = json_dumps(message, JSON_COMPACT);
    json_decref(message);
    if (!text)
        return;
    /* A client that reads nothing does not make us hold its messages for ever. */
    if (g_queue_get_length(c->out) >= 256) {
        free(text);
        live_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too slow");
        return;
    }
    g_queue_push_tail(c->out, text);
    lws_callback_on_writable(c->wsi);
}

static int write_next(struct live_conn *c)
{
    if (c->close_code) {
        lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
                         (unsigned char *)c->close_reason, strlen(c->close_reason));
        return -1;
    }
    char *text = g_queue_pop_head(c->out);
    if (!text)
        return 0;
    size_t len = strlen(text);
    unsigned char *buf = g_malloc(LWS_PRE + len);
    memcpy(buf + LWS_PRE, text, len);
    int n = lws_write(c->wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT);
    g_free(buf);
    free(text);
    if (n < (int)len)
        return -1;
    if (!g_queue_is_empty(c->out))
        lws_callback_on_writable(c->wsi);
    return 0;
}

/* The credential still names an enabled user: else the socket ends. */
static void recheck(struct live_conn *c, int64_t now)
{
    if (now < c->next_auth_check_ms)
        return;
    c->next_auth_check_ms = now + auth_check_ms;
    bool db_down = false;
    struct user *user = credential_user(c, &db_down);
    if (!user && !db_down) {
        live_close(c, 4401, "credential no longer valid");
        return;
    }
    if (user) {
        user_free(c->user);
        c->user = user;
    }
}

static void tick(lws_sorted_usec_list_t *sul)
{
    int64_t now = live_now_ms();
    live_feeds_tick_begin();
    for (GList *l = conns; l; l = l->next) {
        struct live_conn *c = l->data;
        if (c->close_code)
            continue;
        recheck(c, now);
        if (c->close_code)
            continue;
        if (c->subs->len == 0 && now - c->idle_since_ms >= idle_ms) {
            live_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "idle: nothing subscribed");
            continue;
        }
        live_feeds_tick(c, now);
    }
    if (!stopping)
        lws_sul_schedule(context, 0, &tick_sul, tick, TICK_MS * LWS_US_PER_MS);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct live_conn **slot = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        if (strcmp(in ? (const char *)in : "", "websocket"))
            return refuse(wsi, 400, "bad_request", _("Only websocket upgrades are served here."));
        return confirm_upgrade(wsi);
    case LWS_CALLBACK_HTTP:
        /* A plain GET of the address: it is a websocket. */
        return refuse(wsi, 426, "upgrade_required", _("Open this address as a WebSocket."));
    case LWS_CALLBACK_ESTABLISHED: {
        struct live_conn *c = g_hash_table_lookup(pending, wsi);
        g_hash_table_steal(pending, wsi);
        if (!c)
            return -1;
        c->wsi = wsi;
        c->idle_since_ms = live_now_ms();
        c->next_auth_check_ms = c->idle_since_ms + auth_check_ms;
        *slot = c;
        conns = g_list_prepend(conns, c);
        live_send(c, json_pack("{s:s, s:{s:I, s:s}}", "type", "welcome", "data", "userId",
                               (json_int_t)c->user->id, "username", c->user->username));
        return 0;
    }
    case LWS_CALLBACK_RECEIVE: {
        struct live_conn *c = *slot;
        if (!c)
            return -1;
        if (lws_is_first_fragment(wsi))
            g_string_truncate(c->in, 0);
        if (c->in->len + len > 8192) {
            live_close(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
            return 0;
        }
        g_string_append_len(c->in, in, (gssize)len);
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi))
            live_feeds_message(c, c->in->str, c->in->len);
        return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return *slot ? write_next(*slot) : 0;
    case LWS_CALLBACK_CLOSED:
        if (*slot) {
            conns = g_list_remove(conns, *slot);
            live_conn_free(*slot);
            *slot = NULL;
        }
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        /* A handshake that never became a socket. */
        g_hash_table_remove(pending, wsi);
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols protocols[] = {
    { "vmm-live", callback, sizeof(struct live_conn *), 8192, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void on_term(int sig)
{
    stopping = 1;
    if (context)
        lws_cancel_service(context);
}

static void lws_to_our_log(int level, const char *line)
{
    /* lws's errors and warnings only, and never a request line. */
    log_warn("libwebsockets: %.*s", (int)strcspn(line, "\n"), line);
}

int main(int argc, char **argv)
{
    log_init("vmm-live");
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    if (config_load() < 0)
        return 1;
    if (geteuid() == 0) {
        log_error("refusing to run as root: start me as the programs' user");
        return 1;
    }
    i18n_init(config_str("paths", "locale_dir", "po/locale"));
    const char *socket_path = config_str("live", "socket", NULL);
    long ping_s = config_int("live", "ping_s", 25);
    idle_ms = config_int("live", "idle_s", 60) * 1000L;
    auth_check_ms = config_int("live", "auth_check_s", 30) * 1000L;
    if (!socket_path || !*socket_path || ping_s < 1 || ping_s > 3600 || idle_ms < 1000 ||
        auth_check_ms < 1000) {
        log_error("[live] needs socket, and ping_s (1-3600), idle_s and auth_check_s of at least 1");
        return 1;
    }
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_to_our_log);
    if (db_connect() < 0)
        log_warn("starting without a database connection");
    pending = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)live_conn_free);

    /* A ping after ping_s of silence; no answer within as long again and
     * libwebsockets hangs up (a peer gone without a FIN). */
    static lws_retry_bo_t idle_policy;
    idle_policy.secs_since_valid_ping = (uint16_t)ping_s;
    idle_policy.secs_since_valid_hangup = (uint16_t)(2 * ping_s);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_UNIX_SOCK | LWS_SERVER_OPTION_VALIDATE_UTF8 |
                   LWS_SERVER_OPTION_DISABLE_IPV6;
    info.iface = socket_path;
    /* "user:group" of the socket, for nginx's workers to reach it. */
    const char *perms = config_str("live", "socket_owner", "");
    info.unix_socket_perms = *perms ? perms : NULL;
    info.protocols = protocols;
    info.retry_and_idle_policy = &idle_policy;
    info.timeout_secs = 10;   /* for a handshake to finish */
    unlink(socket_path);
    context = lws_create_context(&info);
    /* libwebsockets goes on without its listener when the bind fails. */
    struct stat st;
    if (!context || stat(socket_path, &st) < 0 || !S_ISSOCK(st.st_mode)) {
        log_error("cannot listen on %s", socket_path);
        if (context)
            lws_context_destroy(context);
        return 1;
    }
    chmod(socket_path, 0660);
    lws_sul_schedule(context, 0, &tick_sul, tick, TICK_MS * LWS_US_PER_MS);
    log_info("listening on %s", socket_path);
    while (!stopping && lws_service(context, 0) >= 0)
        ;
    log_info("stopping");
    lws_context_destroy(context);
    db_close();
    return 0;
}
