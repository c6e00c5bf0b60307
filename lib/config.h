/* Configuration: a GKeyFile (etc/vmmanager.conf.in) named by $VMM_CONFIG,
 * each key overridable by the environment as VMM_<GROUP>_<KEY>. */
#ifndef VMM_CONFIG_H
#define VMM_CONFIG_H

#include <stdbool.h>

/* Where an install keeps its data (configure's directories, from
 * Makefile.am): the defaults of the [paths] keys. */
#ifndef VMM_TEMPLATES_DIR
#define VMM_TEMPLATES_DIR "templates"
#endif
#ifndef VMM_LOCALE_DIR
#define VMM_LOCALE_DIR "po/locale"
#endif
#ifndef VMM_SQL_DIR
#define VMM_SQL_DIR "sql"
#endif

/* Loads $VMM_CONFIG, or the installed config file when it is unset. Returns 0, or -1 with a logged reason. */
int config_load(void);
/* The value of group.key, or fallback. The string lives until exit. */
const char *config_str(const char *group, const char *key, const char *fallback);
long long config_int(const char *group, const char *key, long long fallback);
bool config_bool(const char *group, const char *key, bool fallback);

#endif
