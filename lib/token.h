/* Random tokens and their stored digests (sessions, CSRF, API tokens). */
#ifndef VMM_TOKEN_H
#define VMM_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define TOKEN_BYTES 32                    /* 256 random bits */
#define TOKEN_HEX_LEN (TOKEN_BYTES * 2)   /* 64 characters */
/* A personal API token (lib/web/api_token.h): this prefix and a token;
 * the helper recognises one by its shape too. */
#define API_TOKEN_PREFIX "vmm_"
#define API_TOKEN_LEN (4 + TOKEN_HEX_LEN)

/* Fills out (TOKEN_HEX_LEN + 1 bytes) with a fresh random token. */
int token_new(char out[TOKEN_HEX_LEN + 1]);
/* Fills out (len + 1 bytes) with len random letters and digits: a
 * password for something that takes only short ones (VNC: 8). */
int token_password(char *out, size_t len);
/* SHA-256 of text as 64 hex characters: what the database stores. */
void token_digest(const char *text, char out[TOKEN_HEX_LEN + 1]);
/* Constant-time comparison of two strings (false if either is NULL). */
bool token_equal(const char *a, const char *b);
/* True when text is exactly TOKEN_HEX_LEN lowercase hex characters. */
bool token_well_formed(const char *text);
/* The token a websocket client offers as the subprotocol <prefix><token>
 * in its Sec-WebSocket-Protocol header (a comma-separated list), copied to
 * out: 0, or -1 when there is none, it is malformed or there are two (a
 * header is not logged by nginx, a URL's query is). */
int token_from_protocols(const char *header, const char *prefix, char out[TOKEN_HEX_LEN + 1]);

#endif
