/* Password hashing with scrypt (OpenSSL), per-user random salt, stored as
 * "scrypt$N$r$p$salt$hash" (base64) so the cost can rise without breaking
 * existing hashes. */
#ifndef VMM_PASSWORD_H
#define VMM_PASSWORD_H

#include <stdbool.h>

#define PASSWORD_MIN_LEN 8
#define PASSWORD_MAX_LEN 128
#define PASSWORD_HASH_MAX 160

/* Writes the encoded hash of password to out. Returns 0 or -1. */
int password_hash(const char *password, char out[PASSWORD_HASH_MAX]);
/* True when password matches the encoded hash (constant time). */
bool password_verify(const char *password, const char *encoded);

#endif
