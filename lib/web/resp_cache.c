#include "resp_cache.h"

#include <glib.h>

#include "user.h"

/* Per worker: a page of 500 VMs is about 200 KB. */
#define RESP_CACHE_MAX_BYTES (2u << 20)

struct cached_resp {
    GBytes *body;
    const char *type;   /* static strings, as in struct req */
    struct generation_mark mark;
};

static GHashTable *answers;   /* key → struct cached_resp */
static size_t answers_bytes;

static void cached_resp_free(gpointer p)
{
    struct cached_resp *c = p;
    answers_bytes -= g_bytes_get_size(c->body);
    g_bytes_unref(c->body);
    g_free(c);
}

static char *resp_key(const struct req *r)
{
    return g_strdup_printf("%s\n%s\n%lld\n%s\n%s?%s", r->api ? "api" : "page",
                           r->lang ? r->lang : "", r->user ? r->user->id : 0LL,
                           r->api ? "" : r->csrf_token, r->path, r->query ? r->query : "");
}

bool resp_cache_replay(struct req *r)
{
    if (!answers)
        return false;
    char *key = resp_key(r);
    struct cached_resp *c = g_hash_table_lookup(answers, key);
    bool hit = c && generation_fresh(c->mark);
    if (hit) {
        gsize len;
        const char *body = g_bytes_get_data(c->body, &len);
        r->status = 200;
        r->resp_type = c->type;
        g_string_truncate(r->resp_body, 0);
        g_string_append_len(r->resp_body, body, (gssize)len);
    } else if (c) {
        g_hash_table_remove(answers, key);
    }
    g_free(key);
    return hit;
}

void resp_cache_keep(const struct req *r, struct generation_mark mark)
{
    /* Headers (cookies, redirects) and failures are never replayed. */
    if (!mark.generation || r->status != 200 || r->err.status || r->resp_headers->len ||
        r->resp_body->len > RESP_CACHE_MAX_BYTES / 4)
        return;
    if (!answers)
        answers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, cached_resp_free);
    if (answers_bytes + r->resp_body->len > RESP_CACHE_MAX_BYTES)
        g_hash_table_remove_all(answers);
    struct cached_resp *c = g_new0(struct cached_resp, 1);
    c->body = g_bytes_new(r->resp_body->str, r->resp_body->len);
    c->type = r->resp_type;
    c->mark = mark;
    answers_bytes += r->resp_body->len;
    g_hash_table_replace(answers, resp_key(r), c);
}
