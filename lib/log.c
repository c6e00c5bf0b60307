#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char log_program[32] = "vmm";
static char log_request_id[40] = "-";

void log_init(const char *program)
{
    const char *base = strrchr(program, '/');
    snprintf(log_program, sizeof log_program, "%s", base ? base + 1 : program);
}

void log_set_request_id(const char *request_id)
{
    snprintf(log_request_id, sizeof log_request_id, "%s",
             request_id && *request_id ? request_id : "-");
}

__attribute__((format(printf, 2, 0)))
static void log_write(const char *level, const char *fmt, va_list ap)
{
    char when[32];
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);

    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* One event, one line: a newline in a message must not forge another. */
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "%s.%03ldZ %s[%d] %s req=%s %s\n", when, ts.tv_nsec / 1000000,
            log_program, (int)getpid(), level, log_request_id, msg);
}

#define LOG_FN(name, level)                  \
    void name(const char *fmt, ...)          \
    {                                        \
        va_list ap;                          \
        va_start(ap, fmt);                   \
        log_write(level, fmt, ap);           \
        va_end(ap);                          \
    }
LOG_FN(log_info, "info")
LOG_FN(log_warn, "warn")
LOG_FN(log_error, "error")
