/* Password hashing with scrypt (OpenSSL), per-user random salt, stored as
 * "scrypt$N$r$p$salt$hash" (base64) so the cost can rise without breaking
 * existing hashes. */
#ifndef VMM_PASSWORD_H
#define VMM_PASSWORD_H

#include <stdbool.h>

#define PASSWORD_MIN_LEN 8
#define PASSWORD_MAX_LEN 128
#define PASSWORD_HASH_MAX 160
#define PASSWORD_REASON_MAX 256

/* Writes the encoded hash of password to out. Returns 0 or -1. */
int password_hash(const char *password, char out[PASSWORD_HASH_MAX]);
/* True when password matches the encoded hash (constant time). */
bool password_verify(const char *password, const char *encoded);

/* Whether password is good enough to be set, by libpwquality: the
 * system's /etc/security/pwquality.conf (Debian's defaults: at least 8
 * characters, not in cracklib's dictionary of common passwords and words,
 * not containing the user name, no palindrome), at least
 * PASSWORD_MIN_LEN characters, and, when old is given, not too like it.
 * When not, reason gets why, in the current language. */
bool password_strong(const char *password, const char *username, const char *old,
                     char reason[PASSWORD_REASON_MAX]);

#endif
