#include "retention.h"

#include <glib.h>
#include <string.h>

enum { UNMARKED, KEEP, REMOVE };
enum tier { DAY, WEEK, MONTH };

struct entry {
    struct retention_backup *b;
    int mark;
};

static int newest_first(const void *a, const void *b)
{
    const struct retention_backup *x = ((const struct entry *)a)->b;
    const struct retention_backup *y = ((const struct entry *)b)->b;
    if (x->at != y->at)
        return x->at > y->at ? -1 : 1;
    return x->id > y->id ? -1 : x->id < y->id;
}

/* The period of t a tier counts in (UTC; weeks are ISO 8601's, as
 * Proxmox's %G/%V). */
static void period_of(time_t t, enum tier tier, char *out, size_t size)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    if (tier == DAY)
        strftime(out, size, "%Y-%m-%d", &tm);
    else if (tier == WEEK)
        strftime(out, size, "%G/%V", &tm);
    else
        strftime(out, size, "%Y-%m", &tm);
}

/* Proxmox's prune_mark: the newest unmarked backup of each of the newest
 * count periods keeps; the others of those periods are removed; a period
 * holding a backup kept already does not count. */
static void mark_tier(struct entry *e, int n, int count, enum tier tier)
{
    if (count <= 0)
        return;
    GHashTable *already = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTable *newly = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    char period[32];
    for (int i = 0; i < n; i++) {
        period_of(e[i].b->at, tier, period, sizeof period);
        if (e[i].mark == KEEP)
            g_hash_table_add(already, g_strdup(period));
    }
    for (int i = 0; i < n; i++) {
        period_of(e[i].b->at, tier, period, sizeof period);
        if (e[i].mark != UNMARKED || g_hash_table_contains(already, period))
            continue;
        if (!g_hash_table_contains(newly, period)) {
            if ((int)g_hash_table_size(newly) >= count)
                break;
            g_hash_table_add(newly, g_strdup(period));
            e[i].mark = KEEP;
        } else {
            e[i].mark = REMOVE;
        }
    }
    g_hash_table_destroy(already);
    g_hash_table_destroy(newly);
}

void retention_select(struct retention_backup *backups, int n,
                      const struct retention_policy *policy)
{
    /* The policy's own backups, newest first, for the tiers. */
    struct entry *e = g_new0(struct entry, n > 0 ? n : 1);
    int m = 0;
    for (int i = 0; i < n; i++) {
        backups[i].keep = backups[i].pinned;
        if (!backups[i].pinned)
            e[m++] = (struct entry){ .b = &backups[i] };
    }
    qsort(e, m, sizeof *e, newest_first);
    for (int i = 0; i < m && i < policy->last; i++)
        e[i].mark = KEEP;
    mark_tier(e, m, policy->daily, DAY);
    mark_tier(e, m, policy->weekly, WEEK);
    mark_tier(e, m, policy->monthly, MONTH);
    for (int i = 0; i < m; i++)
        e[i].b->keep = e[i].mark == KEEP;
    g_free(e);
    /* What a kept backup builds on stays: a chain goes whole or not at all
     * below its newest kept member. Each pass walks one more parent. */
    for (bool changed = true; changed;) {
        changed = false;
        for (int i = 0; i < n; i++) {
            if (!backups[i].keep || !backups[i].parent_id)
                continue;
            for (int j = 0; j < n; j++)
                if (backups[j].id == backups[i].parent_id && !backups[j].keep)
                    backups[j].keep = changed = true;
        }
    }
}
