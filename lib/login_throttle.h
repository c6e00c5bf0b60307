/* Slowing down password guessing without letting a stranger lock anyone
 * out. Wrong passwords are counted twice:
 *
 *  - per account and client address (an IPv6 client by its /64): after
 *    [auth] throttle_free_failures (5) the address waits before its next
 *    try, 1 s, 2 s, 4 s ... up to [auth] throttle_max_s (900). Only that
 *    address waits: the owner logs in from anywhere else.
 *  - per account over all addresses: a much higher ceiling
 *    ([auth] throttle_account_free_failures, 50) against guessing from
 *    many addresses; past it, addresses the account never logged in from
 *    wait up to [auth] throttle_account_max_s (60). An address the
 *    account has logged in from before never waits for it, so it only
 *    slows a crowd and never locks the owner out.
 *
 * A try made while waiting is refused (429 with Retry-After) without
 * looking at the password and without being counted, so a guesser gets
 * one guess per wait. A right password forgets its address's count.
 * Counts are forgotten after [auth] throttle_forget_s (86400) without a
 * failure. Unknown user names are counted the same way, so the answers
 * do not tell which names exist. The same counts cover the current
 * password that PATCH /me asks for. */
#ifndef VMM_LOGIN_THROTTLE_H
#define VMM_LOGIN_THROTTLE_H

#include <stdbool.h>

#include "http.h"

/* The key an address is counted under: IPv4 as it is, IPv6 as its /64
 * ("2001:db8:1:2::/64"), an IPv4-mapped IPv6 as the IPv4. */
void login_throttle_address_key(const char *address, char out[64]);

/* 0 when username may try a password from r's address now, else the
 * seconds to wait; -1 when the database fails. user_id is the account's
 * id (0 for an unknown name). */
long long login_throttle_wait(struct req *r, const char *username, long long user_id);
/* Counts a wrong password. */
int login_throttle_failure(struct req *r, const char *username);
/* A right password: forgets the count of this account and address. */
int login_throttle_success(struct req *r, const char *username);
/* Forgets all counts of an account (an admin set a new password). */
int login_throttle_forget(const char *username);

/* Answers 429 too_many_attempts with Retry-After; returns -1. */
int login_throttle_refuse(struct req *r, const char *field, long long wait_s);

#endif
