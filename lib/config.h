/* Configuration: a GKeyFile (etc/vmmanager.conf.in) named by $VMM_CONFIG,
 * each key overridable by the environment as VMM_<GROUP>_<KEY>. */
#ifndef VMM_CONFIG_H
#define VMM_CONFIG_H

#include <stdbool.h>

/* Loads $VMM_CONFIG (if set). Returns 0, or -1 with a logged reason. */
int config_load(void);
/* The value of group.key, or fallback. The string lives until exit. */
const char *config_str(const char *group, const char *key, const char *fallback);
long long config_int(const char *group, const char *key, long long fallback);
bool config_bool(const char *group, const char *key, bool fallback);

#endif
