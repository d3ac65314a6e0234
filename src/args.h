/*
 * args.h - checking JSON values, with one message format for the whole
 * program: the config's own keys (config.c) and a handler's args
 * (sy_args_*(), api.c) are refused in the same words.
 *
 *   LABEL: must be an integer, not a string
 *   LABEL: 70000 is out of range 1..65535
 *   LABEL: "fast" is not one of blocking, nonblocking, auto
 *   WHERE KEY: unknown key (known: a, b)
 *   LABEL: required
 *
 * Each function writes its message into err (errlen bytes) and returns
 * -1, or returns 0. User text in a message is quoted and cut (args_quote)
 * so a stray newline or a huge value cannot break its line.
 */
#ifndef ARGS_H
#define ARGS_H

#include <stddef.h>

#include <jansson.h>

#define ARGS_QUOTE_MAX	64	/* bytes of user text shown in a message */
#define ARGS_QUOTE_BUF	(ARGS_QUOTE_MAX + 8)	/* a buffer for args_quote() */

/* s as a JSON-style quoted string, escaped, cut at ARGS_QUOTE_MAX. */
const char	*args_quote(const char *s, char *buf, size_t bufsize);

/* An object key as the user wrote it: bare when plain, else quoted. */
const char	*args_key_name(const char *key, char *buf, size_t bufsize);

/* "a string", "an integer", ... for "must be X, not Y". */
const char	*args_type_name(const json_t *v);

/* "a, b, c" from a NULL-terminated list. */
void		 args_list_names(const char *const *names, char *buf,
		    size_t bufsize);

/*
 * Refuse a key of obj (NULL: none) not in known, NULL-terminated. where
 * is prefixed to the key: "" at the top, "timeouts.", "routes[0]
 * (\"/p\"): args.".
 */
int		 args_check_keys(const json_t *obj, const char *const *known,
		    const char *where, char *err, size_t errlen);

/* Each of required (NULL-terminated; NULL: none) must be a key of obj. */
int		 args_required(const json_t *obj, const char *const *required,
		    const char *where, char *err, size_t errlen);

/*
 * v as an integer in lo..hi (or 0 when zero_ok) into *n. v must not be
 * NULL: absence is the caller's to decide.
 */
int		 args_int(const json_t *v, const char *label, json_int_t lo,
		    json_int_t hi, int zero_ok, json_int_t *n, char *err,
		    size_t errlen);

/* v as a non-empty string without NUL; *s borrows from v. */
int		 args_string(const json_t *v, const char *label,
		    const char **s, char *err, size_t errlen);

/* v as true or false into *b. */
int		 args_bool(const json_t *v, const char *label, int *b,
		    char *err, size_t errlen);

/* v as one of names (NULL-terminated); *val is its index. */
int		 args_enum(const json_t *v, const char *label,
		    const char *const *names, int *val, char *err,
		    size_t errlen);

#endif /* ARGS_H */
