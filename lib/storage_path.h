/* Where an administrator may put a storage pool: under one of [storage]
 * allowed_roots, and never at /, in /etc (or another system directory)
 * or in the portal's own state ([storage] state_dir). Only the text is
 * checked here (absolute, plain components, no "..", no links followed):
 * the helper also resolves what exists of it on disk. */
#ifndef VMM_STORAGE_PATH_H
#define VMM_STORAGE_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* true, or false with the reason (an English sentence) in why. */
bool storage_path_allowed(const char *path, char *why, size_t why_size);
/* True when path is root or below it, by whole components. */
bool path_under(const char *path, const char *root);

#endif
