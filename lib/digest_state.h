/* The MD5 and SHA-256 of an upload, computed as its bytes arrive and kept
 * between PATCHes (and across processes) as text in the upload's row.
 *
 * OpenSSL 3 has no portable way to serialise an EVP_MD_CTX, so the state
 * is OpenSSL's own MD5_CTX and SHA256_CTX (deprecated, still present):
 * plain structs whose layout is public and has not changed in decades.
 * The saved text names the struct sizes and the byte count; a state that
 * does not load (another layout, another count) is rebuilt by hashing the
 * committed bytes again (digest_state_rebuild), so a resumed upload's
 * digests are right whatever happened to the row. */
#ifndef VMM_DIGEST_STATE_H
#define VMM_DIGEST_STATE_H

#include <stdbool.h>
#include <stddef.h>

struct digest_state;

struct digest_state *digest_state_new(void);
void digest_state_free(struct digest_state *s);   /* NULL-safe */
/* Adds bytes to MD5 only, or to SHA-256 only (two threads may feed one
 * state, one digest each), or to both. */
void digest_state_update_md5(struct digest_state *s, const void *data, size_t n);
void digest_state_update_sha256(struct digest_state *s, const void *data, size_t n);
void digest_state_update(struct digest_state *s, const void *data, size_t n);
/* Bytes hashed so far (both digests agree, or -1). */
long long digest_state_bytes(const struct digest_state *s);
/* The state as text (base64); g_free() it. */
char *digest_state_save(const struct digest_state *s);
/* A saved state covering exactly `bytes` bytes, or NULL (bad text,
 * another struct layout, another count). */
struct digest_state *digest_state_load(const char *text, long long bytes);
/* The first `bytes` bytes of fd hashed again, or NULL on a read error. */
struct digest_state *digest_state_rebuild(int fd, long long bytes);
/* Hex digests; the state is spent (free it after). */
void digest_state_final(struct digest_state *s, char md5[33], char sha256[65]);

#endif
