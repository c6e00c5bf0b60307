/* 5-field cron schedules (lib/cron.c), table-driven: what parses, which
 * minutes are due, and the latest due minute a scheduler that was down
 * runs once. All times UTC. */
#include <string.h>

#include "cron.h"
#include "unit.h"

static const struct { const char *text; bool ok; } parse_cases[] = {
    { "* * * * *", true },
    { "0 2 * * *", true },
    { "*/15 * * * *", true },
    { "5/20 * * * *", true },
    { "0-30/10 8-18 * * 1-5", true },
    { "0,30 * 1,15 * 0,7", true },
    { "  0   2 * * *  ", true },
    { "59 23 31 12 7", true },
    { "", false },
    { NULL, false },
    { "* * * *", false },           /* four fields */
    { "* * * * * *", false },       /* six */
    { "60 * * * *", false },
    { "* 24 * * *", false },
    { "* * 0 * *", false },
    { "* * 32 * *", false },
    { "* * * 13 *", false },
    { "* * * * 8", false },
    { "*/0 * * * *", false },
    { "5-1 * * * *", false },       /* a backward range */
    { "1, * * * *", false },
    { ",1 * * * *", false },
    { "a * * * *", false },
    { "@daily", false },
    { "* * * jan *", false },
    { "1-2-3 * * * *", false },
    { "-1 * * * *", false },
    { "99999999999999999999 * * * *", false },
};

START_TEST(test_parse)
{
    struct cron c;
    ck_assert_msg((cron_parse(parse_cases[_i].text, &c) == 0) == parse_cases[_i].ok, "%s",
                  parse_cases[_i].text ? parse_cases[_i].text : "(null)");
}
END_TEST

/* 2026-12-02 is a Wednesday. */
static time_t at(int mday, int hour, int min)
{
    struct tm tm = { .tm_year = 126, .tm_mon = 11, .tm_mday = mday, .tm_hour = hour, .tm_min = min };
    return timegm(&tm);
}

static const struct { const char *text; int mday, hour, min; bool due; } due_cases[] = {
    { "0 2 * * *", 2, 2, 0, true },
    { "0 2 * * *", 2, 2, 1, false },
    { "*/15 * * * *", 2, 7, 45, true },
    { "*/15 * * * *", 2, 7, 46, false },
    { "5/20 * * * *", 2, 7, 45, true },
    { "5/20 * * * *", 2, 7, 5, true },
    { "5/20 * * * *", 2, 7, 0, false },
    { "* * * * 3", 2, 12, 0, true },        /* Wednesday */
    { "* * * * 4", 2, 12, 0, false },
    { "* * * * 0", 6, 12, 0, true },        /* Sunday as 0 */
    { "* * * * 7", 6, 12, 0, true },        /* and as 7 */
    { "* * 15 * 0", 6, 12, 0, true },       /* both restricted: either day */
    { "* * 15 * 0", 15, 12, 0, true },
    { "* * 15 * 0", 16, 12, 0, false },
    { "* * 15 * *", 2, 12, 0, false },
    { "0 0 1 1 *", 2, 0, 0, false },
};

START_TEST(test_due)
{
    struct cron c;
    ck_assert_int_eq(cron_parse(due_cases[_i].text, &c), 0);
    time_t t = at(due_cases[_i].mday, due_cases[_i].hour, due_cases[_i].min) + 30;
    ck_assert_msg(cron_due(&c, t) == due_cases[_i].due, "%s at %d %02d:%02d", due_cases[_i].text,
                  due_cases[_i].mday, due_cases[_i].hour, due_cases[_i].min);
}
END_TEST

/* after/now as (day, hour, minute); expect 0 for none. */
static const struct { const char *text; int a[3], n[3], e[3]; } latest_cases[] = {
    /* Down from 01:00 on the 1st to 03:10 on the 2nd: one run, the latest slot. */
    { "0 2 * * *", { 1, 1, 0 }, { 2, 3, 10 }, { 2, 2, 0 } },
    /* Nothing due since the last run. */
    { "0 2 * * *", { 2, 2, 0 }, { 2, 3, 10 }, { 0, 0, 0 } },
    /* Exactly at the slot: due now. */
    { "30 7 * * *", { 1, 0, 0 }, { 2, 7, 30 }, { 2, 7, 30 } },
    { "*/15 * * * *", { 2, 7, 0 }, { 2, 7, 59 }, { 2, 7, 45 } },
    { "0 12 1 * *", { 0, 0, 0 }, { 2, 10, 0 }, { 1, 12, 0 } },
};

static time_t when(const int v[3])
{
    if (!v[0] && !v[1] && !v[2])
        return 0;
    return at(v[0], v[1], v[2]);
}

START_TEST(test_latest)
{
    struct cron c;
    ck_assert_int_eq(cron_parse(latest_cases[_i].text, &c), 0);
    time_t a = when(latest_cases[_i].a), n = when(latest_cases[_i].n) + 20;
    time_t e = when(latest_cases[_i].e);
    ck_assert_int_eq((long long)cron_latest(&c, a, n), (long long)e);
}
END_TEST

START_TEST(test_latest_sunday)
{
    struct cron c;
    ck_assert_int_eq(cron_parse("0 4 * * 0", &c), 0);
    struct tm sunday = { .tm_year = 126, .tm_mon = 10, .tm_mday = 29, .tm_hour = 4 };
    ck_assert_int_eq((long long)cron_latest(&c, at(2, 10, 0) - 7 * 86400, at(2, 10, 0)),
                     (long long)timegm(&sunday));
}
END_TEST

static Suite *cron_suite(void)
{
    Suite *s = suite_create("cron");
    TCase *tc = tcase_create("cron");
    tcase_add_loop_test(tc, test_parse, 0, G_N_ELEMENTS(parse_cases));
    tcase_add_loop_test(tc, test_due, 0, G_N_ELEMENTS(due_cases));
    tcase_add_loop_test(tc, test_latest, 0, G_N_ELEMENTS(latest_cases));
    tcase_add_test(tc, test_latest_sunday);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(cron_suite)
