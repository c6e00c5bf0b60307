/* 5-field cron schedules ("minute hour day-of-month month day-of-week",
 * in UTC), for the snapshot and backup schedules. Debian packages no C
 * cron-expression library, so this is a small one, table-tested in
 * tests/unit/test_cron.c. Each field is "*", a number, a range "a-b", a
 * step "*" or "a-b" followed by "/n", or a comma list of those; day of week
 * 0-7 (0 and 7 are Sunday). As in Vixie cron, when both day fields are
 * restricted a day matching either is due. Names (jan, mon) and the
 * "@daily" shorthands are not accepted. */
#ifndef VMM_CRON_H
#define VMM_CRON_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct cron {
    uint64_t minutes;    /* bit n: minute n */
    uint32_t hours;
    uint32_t days;       /* bit n: day n of the month (1-31) */
    uint16_t months;     /* bit n: month n (1-12) */
    uint8_t weekdays;    /* bit n: day n of the week (0-6, Sunday 0) */
    bool any_day;        /* day of month was "*" */
    bool any_weekday;    /* day of week was "*" */
};

/* 0, or -1 for text that is not a 5-field schedule (out is then unset). */
int cron_parse(const char *text, struct cron *out);
/* Whether the minute holding t is due. */
bool cron_due(const struct cron *cron, time_t t);
/* The start of the latest due minute in (after, now], or 0 when there is
 * none (looking back at most 366 days). A scheduler that was down for many
 * slots gets only the latest: it runs once, not once per slot missed. */
time_t cron_latest(const struct cron *cron, time_t after, time_t now);

#endif
