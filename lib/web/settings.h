/* Settings an admin changes at run time (the settings table), falling
 * back to the configuration file when never set. */
#ifndef VMM_SETTINGS_H
#define VMM_SETTINGS_H

#include <stdbool.h>

/* Whether visitors may create their own accounts: the admin's choice,
 * else [auth] registration. */
bool settings_registration_open(void);
/* 0 or -1 (database). */
int settings_set_registration(bool open);

#endif
