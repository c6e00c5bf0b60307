/* Logging to stderr (spawn-fcgi sends it to var/log), one line per event,
 * tagged with the program name and the current request id. */
#ifndef VMM_LOG_H
#define VMM_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

void log_init(const char *program);
/* The id of the request being served ("-" between requests). */
void log_set_request_id(const char *request_id);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#ifdef __cplusplus
}
#endif

#endif
