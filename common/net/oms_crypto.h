/* oms_crypto: the few primitives the project needs - random identifiers and HMAC-SHA256
 * (SPEC O-3) - over OpenSSL's libcrypto. */
#ifndef OMS_CRYPTO_H
#define OMS_CRYPTO_H

#include <stddef.h>

/* Writes 2*bytes lower-case hex digits of fresh randomness and a NUL into out (size >= 2*bytes+1).
 * Returns 0, or OMS_E_ENV when the system has no randomness to give. */
int oms_random_hex(char *out, size_t bytes);
/* Writes 32 lower-case hex digits (128 bits) and a NUL: an identifier unique with overwhelming
 * probability but not secret (a per-thread generator seeded once from the system's randomness),
 * for event uuids and delivery ids - a command writes several, and fresh randomness for each costs
 * more than the rest of the row. Returns 0, or OMS_E_ENV when the seed cannot be had. Never use it
 * for a token. */
int oms_unique_hex32(char out[33]);
/* Writes the 64 lower-case hex digits of HMAC-SHA256(key, data) and a NUL into out (size >= 65). */
void oms_hmac_sha256_hex(const char *key, size_t key_len, const void *data, size_t len,
                         char out[65]);

#define OMS_SHA256_LEN 32
/* SHA-256 of data into out. */
void oms_sha256(const void *data, size_t len, unsigned char out[OMS_SHA256_LEN]);
/* 1 when two digests are equal, compared in constant time. */
int oms_digest_equal(const unsigned char a[OMS_SHA256_LEN], const unsigned char b[OMS_SHA256_LEN]);

/* 1 when the two byte strings are equal. Its time does not depend on where they differ nor on
 * their lengths: both are hashed first (SHA-256) and the digests compared in constant time. */
int oms_secret_equal(const void *a, size_t a_len, const void *b, size_t b_len);
/* 1 when given is one of secrets (a NULL-terminated list). Every secret is compared
 * (oms_secret_equal), whatever matches first, so the time tells nothing of which matched. given
 * NULL: 0. */
int oms_secret_in(const char *const *secrets, const char *given);
/* Writes the 64 lower-case hex digits of SHA-256(data) and a NUL into out (size >= 65). */
void oms_sha256_hex(const void *data, size_t len, char out[65]);

#endif
