/*
 * sha256.c - SHA-256 as specified in FIPS 180-4, section 6.2.
 *
 * Straightforward and portable: big-endian loads and stores are done a
 * byte at a time, so alignment and host byte order never matter. Plain
 * C, no SHA extensions: a few times slower than sha256sum(1), which is
 * plenty for request bodies bounded by limits.body_bytes.
 */
#include "autoconfig.h"

#include <string.h>

#include "handlers/sha256.h"

/* FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube
 * roots of the first 64 primes. */
static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5,
	0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
	0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
	0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

#define ROTR(x, n)	(((x) >> (n)) | ((x) << (32 - (n))))
#define CH(x, y, z)	(((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z)	(((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))
#define BSIG0(x)	(ROTR(x, 2) ^ ROTR(x, 13) ^ ROTR(x, 22))
#define BSIG1(x)	(ROTR(x, 6) ^ ROTR(x, 11) ^ ROTR(x, 25))
#define SSIG0(x)	(ROTR(x, 7) ^ ROTR(x, 18) ^ ((x) >> 3))
#define SSIG1(x)	(ROTR(x, 17) ^ ROTR(x, 19) ^ ((x) >> 10))

static uint32_t
load_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
store_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* FIPS 180-4 6.2.2: one 64-byte block into the state. */
static void
sha256_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t	 w[64], a, b, c, d, e, f, g, k, t1, t2;
	int		 i;

	for (i = 0; i < 16; i++)
		w[i] = load_be32(p + 4 * i);
	for (i = 16; i < 64; i++)
		w[i] = SSIG1(w[i - 2]) + w[i - 7] + SSIG0(w[i - 15]) +
		    w[i - 16];
	a = h[0]; b = h[1]; c = h[2]; d = h[3];
	e = h[4]; f = h[5]; g = h[6]; k = h[7];
	for (i = 0; i < 64; i++) {
		t1 = k + BSIG1(e) + CH(e, f, g) + sha256_k[i] + w[i];
		t2 = BSIG0(a) + MAJ(a, b, c);
		k = g; g = f; f = e; e = d + t1;
		d = c; c = b; b = a; a = t1 + t2;
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d;
	h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

void
sha256_init(struct sha256 *ctx)
{
	/* FIPS 180-4 5.3.3: fractional parts of the square roots of the
	 * first 8 primes. */
	static const uint32_t	 iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
	};

	memcpy(ctx->h, iv, sizeof(iv));
	ctx->len = 0;
	ctx->buf_len = 0;
}

void
sha256_update(struct sha256 *ctx, const void *data, size_t len)
{
	const unsigned char	*p = data;
	size_t			 n;

	ctx->len += len;
	if (ctx->buf_len > 0) {
		n = SHA256_BLOCK_LEN - ctx->buf_len;
		if (n > len)
			n = len;
		memcpy(ctx->buf + ctx->buf_len, p, n);
		ctx->buf_len += n;
		p += n;
		len -= n;
		if (ctx->buf_len < SHA256_BLOCK_LEN)
			return;
		sha256_block(ctx->h, ctx->buf);
		ctx->buf_len = 0;
	}
	/* Whole blocks straight from the caller's memory: no copy. */
	for (; len >= SHA256_BLOCK_LEN; p += SHA256_BLOCK_LEN,
	    len -= SHA256_BLOCK_LEN)
		sha256_block(ctx->h, p);
	if (len > 0) {
		memcpy(ctx->buf, p, len);
		ctx->buf_len = len;
	}
}

void
sha256_final(struct sha256 *ctx, unsigned char out[SHA256_DIGEST_LEN])
{
	uint64_t	 bits = ctx->len * 8;	/* mod 2^64, as 5.1.1 says */
	int		 i;

	/* 5.1.1: a 1 bit, zeros up to 56 mod 64, the 64-bit bit length. */
	ctx->buf[ctx->buf_len++] = 0x80;
	if (ctx->buf_len > SHA256_BLOCK_LEN - 8) {
		memset(ctx->buf + ctx->buf_len, 0,
		    SHA256_BLOCK_LEN - ctx->buf_len);
		sha256_block(ctx->h, ctx->buf);
		ctx->buf_len = 0;
	}
	memset(ctx->buf + ctx->buf_len, 0, SHA256_BLOCK_LEN - 8 -
	    ctx->buf_len);
	store_be32(ctx->buf + 56, (uint32_t)(bits >> 32));
	store_be32(ctx->buf + 60, (uint32_t)bits);
	sha256_block(ctx->h, ctx->buf);
	for (i = 0; i < 8; i++)
		store_be32(out + 4 * i, ctx->h[i]);
	memset(ctx, 0, sizeof(*ctx));
}

void
sha256_digest(const void *data, size_t len,
    unsigned char out[SHA256_DIGEST_LEN])
{
	struct sha256	 ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, data, len);
	sha256_final(&ctx, out);
}

void
sha256_hex(const unsigned char digest[SHA256_DIGEST_LEN],
    char hex[SHA256_HEX_LEN + 1])
{
	static const char	 digits[] = "0123456789abcdef";
	int			 i;

	for (i = 0; i < SHA256_DIGEST_LEN; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 0xf];
	}
	hex[SHA256_HEX_LEN] = '\0';
}
