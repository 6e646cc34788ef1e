/* oms_crypto: randomness and HMAC-SHA256. */
#include "oms_crypto.h"

#include "oms_error.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int oms_random_hex(char *out, size_t bytes)
{
    unsigned char buf[64];
    if (bytes > sizeof(buf) || RAND_bytes(buf, (int)bytes) != 1)
        return OMS_E_ENV;
    to_hex(buf, bytes, out);
    return 0;
}

/* splitmix64 (Vigna): a bijection of its state, so a thread's identifiers never repeat. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

int oms_unique_hex32(char out[33])
{
    static _Thread_local uint64_t state;
    static _Thread_local int seeded;
    if (!seeded) {
        if (RAND_bytes((unsigned char *)&state, (int)sizeof(state)) != 1)
            return OMS_E_ENV;
        seeded = 1;
    }
    unsigned char bytes[16];
    uint64_t hi = splitmix64(&state), lo = splitmix64(&state);
    for (int i = 0; i < 8; i++) {
        bytes[i] = (unsigned char)(hi >> (56 - 8 * i));
        bytes[8 + i] = (unsigned char)(lo >> (56 - 8 * i));
    }
    to_hex(bytes, sizeof(bytes), out);
    return 0;
}

void oms_hmac_sha256_hex(const char *key, size_t key_len, const void *data, size_t len,
                         char out[65])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), key, (int)key_len, data, len, mac, &mac_len);
    to_hex(mac, mac_len, out);
}

/* SHA-256 fetched once: SHA256() looks the algorithm up in the provider on every call, which
 * cost more than hashing a token. */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void oms_sha256(const void *data, size_t len, unsigned char out[OMS_SHA256_LEN])
{
    pthread_once(&sha256_once, sha256_fetch);
    if (!sha256_md || !EVP_Digest(data, len, out, NULL, sha256_md, NULL))
        SHA256(data, len, out);
}

int oms_digest_equal(const unsigned char a[OMS_SHA256_LEN], const unsigned char b[OMS_SHA256_LEN])
{
    return CRYPTO_memcmp(a, b, OMS_SHA256_LEN) == 0;
}

int oms_secret_equal(const void *a, size_t a_len, const void *b, size_t b_len)
{
    unsigned char da[OMS_SHA256_LEN], db[OMS_SHA256_LEN];
    oms_sha256(a, a_len, da);
    oms_sha256(b, b_len, db);
    /* The lengths are compared after the digests, branch-free, so neither leaks by time. */
    int same = oms_digest_equal(da, db);
    return same & (a_len == b_len);
}

int oms_secret_in(const char *const *secrets, const char *given)
{
    if (!given)
        return 0;
    /* The given secret is hashed once; every secret is compared, whatever matches first. */
    unsigned char dg[OMS_SHA256_LEN], ds[OMS_SHA256_LEN];
    size_t given_len = strlen(given);
    oms_sha256(given, given_len, dg);
    int ok = 0;
    for (size_t i = 0; secrets[i]; i++) {
        size_t len = strlen(secrets[i]);
        oms_sha256(secrets[i], len, ds);
        ok |= oms_digest_equal(ds, dg) & (len == given_len);
    }
    return ok;
}

void oms_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(data, len, d);
    to_hex(d, sizeof(d), out);
}
