#include "metrics_store.h"

#include <errno.h>
#include <math.h>
#include <rrd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

/* librrd keeps its last error per thread; take it and clear it. */
static const char *rrd_error(void)
{
    const char *e = rrd_get_error();
    return e && *e ? e : "unknown error";
}

static int create(const char *path, const struct metrics_kind *kind, time_t t)
{
    int step = metrics_interval_s();
    char ds[METRICS_MAX_SERIES][64], rra[4][64];
    const char *argv[METRICS_MAX_SERIES + 4];
    int argc = 0;
    /* A sample missing for two intervals makes that time unknown: a gap. */
    for (int i = 0; i < kind->n; i++) {
        snprintf(ds[i], sizeof ds[i], "DS:%s:GAUGE:%d:0:U", kind->names[i], 2 * step);
        argv[argc++] = ds[i];
    }
    /* 10 s for an hour, 1 min for a day, 30 min for a month, 1 day for a
     * year (at a 10 s interval), each a little longer than its range so
     * that "the last hour" asked mid-step is still answered by the finest
     * archive (librrd picks one that covers the whole range). xff 0.5: a
     * bucket with half its samples unknown is unknown. */
    snprintf(rra[0], sizeof rra[0], "RRA:AVERAGE:0.5:1:%d", 3900 / step);
    snprintf(rra[1], sizeof rra[1], "RRA:AVERAGE:0.5:%d:1500", 60 / step);
    snprintf(rra[2], sizeof rra[2], "RRA:AVERAGE:0.5:%d:1488", 1800 / step);
    snprintf(rra[3], sizeof rra[3], "RRA:AVERAGE:0.5:%d:370", 86400 / step);
    for (int i = 0; i < 4; i++)
        argv[argc++] = rra[i];
    rrd_clear_error();
    /* no_overwrite: two writers racing to make it never truncate one. */
    if (rrd_create_r2(path, (unsigned long)step, t - step, 1, NULL, NULL, argc, argv) < 0 &&
        access(path, F_OK) != 0) {
        log_error("metrics: cannot create %s: %s", path, rrd_error());
        return -1;
    }
    chmod(path, 0644);
    return 0;
}

int metrics_store_update(const char *name, const struct metrics_kind *kind, time_t t,
                         const double *values)
{
    char path[4096];
    metrics_path(path, sizeof path, name);
    if (access(path, F_OK) != 0 && create(path, kind, t) < 0)
        return -1;
    char sample[32 * METRICS_MAX_SERIES + 32];
    int len = snprintf(sample, sizeof sample, "%lld", (long long)t);
    for (int i = 0; i < kind->n; i++)
        len += isnan(values[i]) ? snprintf(sample + len, sizeof sample - len, ":U")
                                : snprintf(sample + len, sizeof sample - len, ":%.6g", values[i]);
    const char *argv[] = { sample };
    /* A reader (a chart, the scheduler) holds the file's lock for a moment:
     * try again rather than lose the sample. A sample at or before the
     * last (a clock step back) is skipped, not an error. */
    for (int attempt = 0;; attempt++) {
        rrd_clear_error();
        if (rrd_updatex_r(path, NULL, RRD_SKIP_PAST_UPDATES, 1, argv) == 0)
            return 0;
        if (attempt == 4 || !strstr(rrd_error(), "lock"))
            break;
        usleep(10000);
    }
    log_warn("metrics: cannot update %s: %s", path, rrd_error());
    return -1;
}

static json_t *empty_series(const struct metrics_kind *kind, time_t from, time_t to,
                            unsigned long step)
{
    if (!step)
        step = (unsigned long)metrics_interval_s();
    from -= from % (time_t)step;
    json_t *stamps = json_array();
    json_t *series = json_object();
    for (int i = 0; i < kind->n; i++)
        json_object_set_new(series, kind->names[i], json_array());
    for (time_t t = from + (time_t)step; t <= to; t += (time_t)step) {
        json_array_append_new(stamps, json_integer(t));
        for (int i = 0; i < kind->n; i++)
            json_array_append_new(json_object_get(series, kind->names[i]), json_null());
    }
    return json_pack("{s:I, s:I, s:I, s:o, s:o}", "from", (json_int_t)from, "to",
                     (json_int_t)to, "step", (json_int_t)step, "timestamps", stamps, "series",
                     series);
}

json_t *metrics_store_fetch(const char *name, const struct metrics_kind *kind, time_t from,
                            time_t to, unsigned long step, struct err *err)
{
    char path[4096];
    metrics_path(path, sizeof path, name);
    if (access(path, R_OK) != 0)
        return empty_series(kind, from, to, step);
    time_t start = from, end = to;
    unsigned long ds_cnt = 0;
    char **ds_names = NULL;
    rrd_value_t *data = NULL;
    if (!step)
        step = 1;   /* librrd picks the finest archive covering the range */
    rrd_clear_error();
    if (rrd_fetch_r(path, "AVERAGE", &start, &end, &step, &ds_cnt, &ds_names, &data) < 0) {
        log_error("metrics: cannot read %s: %s", path, rrd_error());
        err_set(err, 503, "metrics_unavailable", NULL, "The metrics store cannot be read.");
        return NULL;
    }
    /* Columns by name: a file made before a series was added lacks it. */
    int column[METRICS_MAX_SERIES];
    for (int i = 0; i < kind->n; i++) {
        column[i] = -1;
        for (unsigned long c = 0; c < ds_cnt; c++)
            if (!strcmp(ds_names[c], kind->names[i]))
                column[i] = (int)c;
    }
    json_t *stamps = json_array();
    json_t *lists[METRICS_MAX_SERIES];
    json_t *series = json_object();
    for (int i = 0; i < kind->n; i++) {
        lists[i] = json_array();
        json_object_set_new(series, kind->names[i], lists[i]);
    }
    unsigned long rows = step ? (unsigned long)(end - start) / step : 0;
    for (unsigned long row = 0; row < rows; row++) {
        time_t t = start + (time_t)((row + 1) * step);
        json_array_append_new(stamps, json_integer(t));
        for (int i = 0; i < kind->n; i++) {
            double v = column[i] < 0 ? NAN : data[row * ds_cnt + (unsigned long)column[i]];
            json_array_append_new(lists[i], isnan(v) ? json_null()
                                                     : json_real(round(v * 100) / 100));
        }
    }
    for (unsigned long c = 0; c < ds_cnt; c++)
        rrd_freemem(ds_names[c]);
    rrd_freemem(ds_names);
    rrd_freemem(data);
    return json_pack("{s:I, s:I, s:I, s:o, s:o}", "from", (json_int_t)start, "to",
                     (json_int_t)end, "step", (json_int_t)step, "timestamps", stamps, "series",
                     series);
}

int metrics_store_last(const char *name, const struct metrics_kind *kind, time_t *t,
                       double *values)
{
    char path[4096];
    metrics_path(path, sizeof path, name);
    for (int i = 0; i < kind->n; i++)
        values[i] = NAN;
    if (access(path, R_OK) != 0)
        return -1;
    unsigned long ds_cnt = 0;
    char **ds_names = NULL, **last = NULL;
    rrd_clear_error();
    if (rrd_lastupdate_r(path, t, &ds_cnt, &ds_names, &last) < 0)
        return -1;
    for (unsigned long c = 0; c < ds_cnt; c++) {
        for (int i = 0; i < kind->n; i++)
            if (!strcmp(ds_names[c], kind->names[i]) && strcmp(last[c], "U")) {
                char *end = NULL;
                double v = strtod(last[c], &end);
                if (end != last[c])
                    values[i] = v;
            }
        rrd_freemem(ds_names[c]);
        rrd_freemem(last[c]);
    }
    rrd_freemem(ds_names);
    rrd_freemem(last);
    return 0;
}
