#include "session_cache.h"

#include <glib.h>

/* A worker serves few sessions at once; past this many, start afresh. */
#define SESSION_CACHE_MAX 256

static GHashTable *sessions;   /* digest → struct cached_session */

static void cached_session_free(gpointer p)
{
    struct cached_session *s = p;
    user_free(s->user);
    g_free(s);
}

const struct cached_session *session_cache_get(const char *digest)
{
    struct cached_session *s = sessions ? g_hash_table_lookup(sessions, digest) : NULL;
    if (s && !generation_fresh(s->mark)) {
        g_hash_table_remove(sessions, digest);
        return NULL;
    }
    return s;
}

void session_cache_put(const char *digest, const struct user *user, long long created,
                       long long last_seen, const char *csrf, struct generation_mark mark)
{
    if (!mark.generation)
        return;
    if (!sessions)
        sessions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, cached_session_free);
    if (g_hash_table_size(sessions) >= SESSION_CACHE_MAX)
        g_hash_table_remove_all(sessions);
    struct cached_session *s = g_new0(struct cached_session, 1);
    s->user = user_copy(user);
    s->created = created;
    s->last_seen = last_seen;
    g_strlcpy(s->csrf, csrf ? csrf : "", sizeof s->csrf);
    s->mark = mark;
    g_hash_table_replace(sessions, g_strdup(digest), s);
}

void session_cache_drop(const char *digest)
{
    if (sessions)
        g_hash_table_remove(sessions, digest);
}
