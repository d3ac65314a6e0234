/*
 * fuzz_config.c - libFuzzer target for the configuration loader
 * (src/config.c, with the handlers' init()/free() it runs).
 *
 * The input is the JSON text, NUL-terminated (config_load_string() takes
 * a C string, so an embedded NUL simply ends it). On success the config
 * is walked a little and freed; on failure the error is formatted. Either
 * way nothing may leak: LeakSanitizer checks config_free() and every
 * error path of config_build().
 *
 * Side effects are only lookups: "static" realpath()s its root, and
 * "write_file" stat()s and access()es its dir; "user"/"group" go
 * through getpwnam()/getgrnam().
 */
#include "autoconfig.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_error	 err;
	struct config		*conf;
	char			*json, buf[1024], methods[64];
	size_t			 i;

	if ((json = malloc(size + 1)) == NULL)
		return 0;
	memcpy(json, data, size);
	json[size] = '\0';

	conf = config_load_string(json, "fuzz.json", &err);
	if (conf == NULL) {
		CHECK(memchr(err.text, '\0', sizeof(err.text)) != NULL);
		CHECK(err.text[0] != '\0');
		(void)config_error_format(&err, buf, sizeof(buf));
	} else {
		CHECK(conf->nlisten >= 1);
		CHECK(conf->nroutes >= 1);
		CHECK(conf->limits.uri_bytes <= conf->limits.header_bytes);
		CHECK(conf->error_log != NULL);
		for (i = 0; i < conf->nlisten; i++)
			CHECK(memchr(conf->listen[i].text, '\0',
			    sizeof(conf->listen[i].text)) != NULL);
		for (i = 0; i < conf->nroutes; i++) {
			const struct config_route *r = &conf->routes[i];

			CHECK(r->path != NULL && r->path[0] == '/');
			CHECK(strlen(r->path) == r->path_len);
			CHECK(r->handler != NULL);
			CHECK(r->methods != 0);
			(void)config_methods_format(r->methods, methods,
			    sizeof(methods));
			(void)config_mode_name(r->mode);
		}
		config_free(conf);
	}
	free(json);
	return 0;
}
