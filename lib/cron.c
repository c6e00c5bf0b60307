#include "cron.h"

#include <stdlib.h>
#include <string.h>

/* A bounded decimal in [min, max] at *p, moving *p past it. */
static int number(const char **p, int min, int max, int *out)
{
    if (**p < '0' || **p > '9')
        return -1;
    long v = 0;
    while (**p >= '0' && **p <= '9') {
        v = v * 10 + (**p - '0');
        if (v > max)
            return -1;
        (*p)++;
    }
    if (v < min)
        return -1;
    *out = (int)v;
    return 0;
}

/* One field (text up to its end) as bits in *bits; *any when it is "*". */
static int field(const char *text, const char *end, int min, int max, uint64_t *bits, bool *any)
{
    *bits = 0;
    *any = end - text == 1 && *text == '*';
    const char *p = text;
    while (p < end) {
        int lo = min, hi = max, step = 1;
        bool single = false;
        if (*p == '*') {
            p++;
        } else {
            if (number(&p, min, max, &lo) < 0)
                return -1;
            hi = lo;
            single = *p != '-';
            if (*p == '-') {
                p++;
                if (number(&p, min, max, &hi) < 0 || hi < lo)
                    return -1;
            }
        }
        if (*p == '/') {
            p++;
            if (number(&p, 1, max, &step) < 0)
                return -1;
            /* "5/15" means 5-max/15, as in Vixie cron. */
            if (single)
                hi = max;
        }
        for (int v = lo; v <= hi; v += step)
            *bits |= 1ULL << v;
        if (p < end && *p != ',')
            return -1;
        if (p < end && ++p == end)
            return -1;   /* a trailing comma */
    }
    return *bits ? 0 : -1;
}

int cron_parse(const char *text, struct cron *out)
{
    static const int ranges[5][2] = { { 0, 59 }, { 0, 23 }, { 1, 31 }, { 1, 12 }, { 0, 7 } };
    uint64_t bits[5];
    bool any[5];
    const char *p = text;
    if (!text || strlen(text) > 200)
        return -1;
    for (int i = 0; i < 5; i++) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *end = p + strcspn(p, " \t");
        if (end == p || field(p, end, ranges[i][0], ranges[i][1], &bits[i], &any[i]) < 0)
            return -1;
        p = end;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p)
        return -1;   /* a sixth field */
    *out = (struct cron){
        .minutes = bits[0], .hours = (uint32_t)bits[1], .days = (uint32_t)bits[2],
        .months = (uint16_t)bits[3],
        .weekdays = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f),   /* 7 is Sunday too */
        .any_day = any[2], .any_weekday = any[4],
    };
    return 0;
}

static bool day_due(const struct cron *c, const struct tm *tm)
{
    bool day = c->days >> tm->tm_mday & 1, weekday = c->weekdays >> tm->tm_wday & 1;
    if (c->any_day || c->any_weekday)
        return day && weekday;
    return day || weekday;
}

bool cron_due(const struct cron *c, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    return (c->months >> (tm.tm_mon + 1) & 1) && day_due(c, &tm) && (c->hours >> tm.tm_hour & 1) &&
           (c->minutes >> tm.tm_min & 1);
}

time_t cron_latest(const struct cron *c, time_t after, time_t now)
{
    time_t floor = now - 366 * 86400;
    if (after < floor)
        after = floor;
    time_t t = now - now % 60;
    while (t > after) {
        struct tm tm;
        gmtime_r(&t, &tm);
        /* Skip whole days and hours that cannot be due. */
        if (!(c->months >> (tm.tm_mon + 1) & 1) || !day_due(c, &tm)) {
            t -= tm.tm_hour * 3600 + tm.tm_min * 60 + 60;   /* to 23:59 the day before */
            continue;
        }
        if (!(c->hours >> tm.tm_hour & 1)) {
            t -= tm.tm_min * 60 + 60;   /* to :59 of the hour before */
            continue;
        }
        if (c->minutes >> tm.tm_min & 1)
            return t;
        t -= 60;
    }
    return 0;
}
