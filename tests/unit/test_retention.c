/* Retention (lib/retention.c), table-driven over synthetic backup lists
 * on a fixed clock (Wednesday 2026-12-02 12:00 UTC): keep last N, the
 * daily, weekly (ISO) and monthly tiers as Proxmox's prune counts them,
 * and chains: whatever a kept backup builds on stays, a pinned (user's)
 * backup keeps its chain. */
#include <string.h>

#include "retention.h"
#include "unit.h"

#define NOW 1796212800LL   /* 2026-12-02T12:00:00Z, a Wednesday */
#define DAY 86400LL
#define H 3600LL

struct item {
    long long id, parent;
    long long at;   /* seconds before NOW */
    bool pinned;
};

static const struct {
    const char *name;
    struct item items[24];
    struct retention_policy policy;
    const char *kept;   /* ids kept, ascending, comma-separated */
} cases[] = {
    { "keep last 2 of 5 fulls",
      { { 1, 0, 4 * DAY }, { 2, 0, 3 * DAY }, { 3, 0, 2 * DAY }, { 4, 0, 1 * DAY }, { 5, 0, 0 } },
      { .last = 2 }, "4,5" },
    { "daily: the newest of each day; a day already kept does not count",
      /* 0: today 10:00 (last), 1: today 02:00, 2: yesterday 23:00, 3: yesterday
       * 01:00, 4: two days ago, 5: three days ago (past the two days) */
      { { 10, 0, 2 * H }, { 11, 0, 10 * H }, { 12, 0, 13 * H }, { 13, 0, 35 * H },
        { 14, 0, 2 * DAY }, { 15, 0, 3 * DAY } },
      { .last = 1, .daily = 2 }, "10,12,14" },
    { "weekly: ISO weeks (Monday first), the week of the last one counted already",
      /* one a day at 03:00 for 21 days: today is Wed Dec 2 (week 49);
       * Sun Nov 29 ends week 48, Sun Nov 22 week 47 */
      { { 100, 0, 9 * H }, { 101, 0, 9 * H + 1 * DAY }, { 102, 0, 9 * H + 2 * DAY },
        { 103, 0, 9 * H + 3 * DAY }, { 104, 0, 9 * H + 4 * DAY }, { 105, 0, 9 * H + 5 * DAY },
        { 106, 0, 9 * H + 6 * DAY }, { 107, 0, 9 * H + 7 * DAY }, { 108, 0, 9 * H + 8 * DAY },
        { 109, 0, 9 * H + 9 * DAY }, { 110, 0, 9 * H + 10 * DAY }, { 111, 0, 9 * H + 11 * DAY },
        { 112, 0, 9 * H + 12 * DAY }, { 113, 0, 9 * H + 13 * DAY }, { 114, 0, 9 * H + 14 * DAY },
        { 115, 0, 9 * H + 15 * DAY }, { 116, 0, 9 * H + 16 * DAY }, { 117, 0, 9 * H + 17 * DAY },
        { 118, 0, 9 * H + 18 * DAY }, { 119, 0, 9 * H + 19 * DAY }, { 120, 0, 9 * H + 20 * DAY } },
      { .last = 1, .weekly = 2 }, "100,103,110" },
    { "monthly: the newest of each of three months before this one",
      /* Dec 1, Nov 15, Nov 1, Oct 15, Sep 15, Aug 15 */
      { { 20, 0, 1 * DAY + 12 * H }, { 21, 0, 17 * DAY + 12 * H }, { 22, 0, 31 * DAY + 12 * H },
        { 23, 0, 48 * DAY + 12 * H }, { 24, 0, 78 * DAY + 12 * H }, { 25, 0, 109 * DAY + 12 * H } },
      { .last = 1, .monthly = 3 }, "20,21,23,24" },
    { "tiers together: last, then daily, then weekly, then monthly",
      /* today, yesterday, 2 days ago (Mon, week 49), Sun Nov 29 (week 48),
       * Nov 20 (week 47), Oct 20 */
      { { 30, 0, 1 * H }, { 31, 0, 1 * DAY }, { 32, 0, 2 * DAY }, { 33, 0, 3 * DAY },
        { 34, 0, 12 * DAY }, { 35, 0, 43 * DAY } },
      { .last = 1, .daily = 1, .weekly = 1, .monthly = 1 }, "30,31,33,35" },
    { "an old chain goes whole; the newest chain stays for its incremental",
      { { 40, 0, 10 * DAY }, { 41, 40, 9 * DAY }, { 42, 41, 8 * DAY },
        { 43, 0, 2 * DAY }, { 44, 43, 1 * DAY }, { 45, 44, 0 } },
      { .last = 1 }, "43,44,45" },
    { "an incremental a tier keeps keeps the full it needs, beyond the tier's count",
      { { 50, 0, 10 * DAY }, { 51, 50, 9 * DAY }, { 52, 0, 2 * DAY }, { 53, 52, 0 } },
      { .last = 1, .daily = 2 }, "50,51,52,53" },
    { "the tail of an old chain goes, what it builds on stays",
      /* full Nov 20, incrementals Nov 21 and Dec 1 01:00; a full Dec 1 06:00
       * (last): Dec 1 is counted already, so its incremental goes */
      { { 60, 0, 12 * DAY }, { 61, 60, 11 * DAY }, { 62, 61, 35 * H }, { 63, 0, 30 * H } },
      { .last = 1, .daily = 1 }, "60,61,63" },
    { "a user's (pinned) backup is kept, with the schedule's full it builds on",
      { { 70, 0, 30 * DAY }, { 71, 70, 29 * DAY, true }, { 72, 0, 20 * DAY }, { 73, 0, 0 } },
      { .last = 1 }, "70,71,73" },
    { "nothing kept but pinned ones when every count is 0",
      { { 80, 0, 2 * DAY, true }, { 81, 0, 1 * DAY } }, { 0 }, "80" },
};

static int item_count(int c)
{
    int n = 0;
    while (n < 24 && cases[c].items[n].id)
        n++;
    return n;
}

START_TEST(test_select)
{
    int n = item_count(_i);
    struct retention_backup b[24];
    for (int i = 0; i < n; i++)
        b[i] = (struct retention_backup){ .id = cases[_i].items[i].id,
                                          .parent_id = cases[_i].items[i].parent,
                                          .at = (time_t)(NOW - cases[_i].items[i].at),
                                          .pinned = cases[_i].items[i].pinned };
    /* Any order in: reverse it. */
    for (int i = 0; i < n / 2; i++) {
        struct retention_backup t = b[i];
        b[i] = b[n - 1 - i];
        b[n - 1 - i] = t;
    }
    retention_select(b, n, &cases[_i].policy);
    GString *kept = g_string_new("");
    for (int pass = 0; pass < n; pass++) {
        /* ascending ids */
        long long best = -1;
        int at = -1;
        for (int i = 0; i < n; i++)
            if (b[i].keep && (best < 0 || b[i].id < best)) {
                best = b[i].id;
                at = i;
            }
        if (at < 0)
            break;
        g_string_append_printf(kept, "%s%lld", kept->len ? "," : "", best);
        b[at].keep = false;
    }
    ck_assert_msg(!strcmp(kept->str, cases[_i].kept), "%s: kept %s, wanted %s", cases[_i].name,
                  kept->str, cases[_i].kept);
    g_string_free(kept, TRUE);
}
END_TEST

START_TEST(test_empty)
{
    retention_select(NULL, 0, &(struct retention_policy){ .last = 3 });
}
END_TEST

static Suite *retention_suite(void)
{
    Suite *s = suite_create("retention");
    TCase *tc = tcase_create("retention");
    tcase_add_loop_test(tc, test_select, 0, G_N_ELEMENTS(cases));
    tcase_add_test(tc, test_empty);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(retention_suite)
