/*
 * sha256.h - SHA-256 (FIPS 180-4), for the "hash_body" handler.
 *
 * A small self-contained implementation: no crypto library is needed for
 * one digest of a request body. Any thread; a context is used by one
 * thread at a time.
 */
#ifndef SHA256_H
#define SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN	32	/* bytes */
#define SHA256_HEX_LEN		64	/* hex digits, without the NUL */
#define SHA256_BLOCK_LEN	64	/* bytes per compression */

struct sha256 {
	uint32_t	 h[8];		/* the chaining state */
	uint64_t	 len;		/* message bytes so far */
	unsigned char	 buf[SHA256_BLOCK_LEN];	/* a partial block */
	size_t		 buf_len;	/* bytes in buf, < SHA256_BLOCK_LEN */
};

/* Start a new message in ctx. */
void	sha256_init(struct sha256 *ctx);

/* Add len bytes of data (any length, any alignment; len may be 0). */
void	sha256_update(struct sha256 *ctx, const void *data, size_t len);

/*
 * Pad, write the digest into out and wipe ctx; sha256_init() it again
 * before reuse.
 */
void	sha256_final(struct sha256 *ctx, unsigned char out[SHA256_DIGEST_LEN]);

/* One shot: the digest of data[0..len) into out. */
void	sha256_digest(const void *data, size_t len,
	    unsigned char out[SHA256_DIGEST_LEN]);

/* The digest as lower-case hex, NUL-terminated, into hex. */
void	sha256_hex(const unsigned char digest[SHA256_DIGEST_LEN],
	    char hex[SHA256_HEX_LEN + 1]);

#endif /* SHA256_H */
