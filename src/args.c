/*
 * args.c - checking JSON values, one message format (see args.h).
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "args.h"

/* Write the message; returns -1 for the caller to pass on. */
static int __attribute__((format(printf, 3, 4)))
refuse(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Length of buf[0..n) without a UTF-8 character cut at its end, so that a
 * shortened quote stays valid UTF-8 on a terminal.
 */
static size_t
utf8_cut(const char *buf, size_t n)
{
	size_t	 k = n;

	while (k > 1 && ((unsigned char)buf[k - 1] & 0xc0) == 0x80)
		k--;
	if (k > 1 && (unsigned char)buf[k - 1] >= 0xc0) {
		/* A lead byte: keep it only with all its continuation bytes. */
		unsigned char	 lead = (unsigned char)buf[k - 1];
		size_t		 want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;

		if (n - (k - 1) < want)
			return k - 1;
	}
	return n;
}

/*
 * s as a JSON-style quoted string, escaped and cut to ARGS_QUOTE_MAX
 * bytes, so a stray newline or a huge value cannot break the one-line
 * message it is shown in.
 */
const char *
args_quote(const char *s, char *buf, size_t bufsize)
{
	size_t		 n = 0, i;
	unsigned char	 c;
	char		 esc[8];

	/* Room for the closing quote, "..." and the NUL. */
	if (bufsize < 8) {
		if (bufsize > 0)
			buf[0] = '\0';
		return buf;
	}
	buf[n++] = '"';
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= ARGS_QUOTE_MAX) {
			n = utf8_cut(buf, n);
			memcpy(buf + n, "...", 3);
			n += 3;
			break;
		}
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			(void)snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			(void)snprintf(esc, sizeof(esc), "\\u%04x", c);
		else {
			esc[0] = (char)c;
			esc[1] = '\0';
		}
		if (n + strlen(esc) + 5 > bufsize) {
			n = utf8_cut(buf, n);
			memcpy(buf + n, "...", 3);
			n += 3;
			break;
		}
		memcpy(buf + n, esc, strlen(esc));
		n += strlen(esc);
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

/* An object key as the user wrote it: bare when plain, quoted if not. */
const char *
args_key_name(const char *key, char *buf, size_t bufsize)
{
	size_t	 i;

	for (i = 0; key[i] != '\0' && i < ARGS_QUOTE_MAX; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", key[i]) == NULL)
			break;
	if (i == 0 || key[i] != '\0')
		return args_quote(key, buf, bufsize);
	(void)snprintf(buf, bufsize, "%s", key);
	return buf;
}

/* For "must be an integer, not a string". */
const char *
args_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

/* "a, b, c" from a NULL-terminated list. */
void
args_list_names(const char *const *names, char *buf, size_t bufsize)
{
	size_t	 i, n = 0;
	int	 r;

	buf[0] = '\0';
	for (i = 0; names[i] != NULL && n < bufsize; i++) {
		r = snprintf(buf + n, bufsize - n, "%s%s", i ? ", " : "",
		    names[i]);
		if (r < 0)
			break;
		n += (size_t)r;
	}
}

int
args_check_keys(const json_t *obj, const char *const *known,
    const char *where, char *err, size_t errlen)
{
	const char	*key;
	json_t		*v;
	char		 names[512], kbuf[ARGS_QUOTE_BUF];
	size_t		 i;

	if (obj == NULL)
		return 0;
	/* json_object_foreach() wants a mutable object; it does not write. */
	json_object_foreach((json_t *)(uintptr_t)obj, key, v) {
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (known[i] == NULL) {
			args_list_names(known, names, sizeof(names));
			return refuse(err, errlen, "%s%s: unknown key (known: "
			    "%s)", where, args_key_name(key, kbuf,
			    sizeof(kbuf)), names);
		}
	}
	return 0;
}

int
args_required(const json_t *obj, const char *const *required,
    const char *where, char *err, size_t errlen)
{
	size_t	 i;

	for (i = 0; required != NULL && required[i] != NULL; i++)
		if (obj == NULL || json_object_get(obj, required[i]) == NULL)
			return refuse(err, errlen, "%s%s: required", where,
			    required[i]);
	return 0;
}

int
args_int(const json_t *v, const char *label, json_int_t lo, json_int_t hi,
    int zero_ok, json_int_t *n, char *err, size_t errlen)
{
	json_int_t	 x;

	if (!json_is_integer(v))
		return refuse(err, errlen, "%s: must be an integer, not %s",
		    label, args_type_name(v));
	x = json_integer_value(v);
	if (!(zero_ok && x == 0) && (x < lo || x > hi))
		return refuse(err, errlen, "%s: %" JSON_INTEGER_FORMAT " is out "
		    "of range %" JSON_INTEGER_FORMAT "..%" JSON_INTEGER_FORMAT
		    "%s", label, x, lo, hi, zero_ok ? " (or 0 for off)" : "");
	*n = x;
	return 0;
}

int
args_string(const json_t *v, const char *label, const char **s, char *err,
    size_t errlen)
{
	if (!json_is_string(v))
		return refuse(err, errlen, "%s: must be a string, not %s", label,
		    args_type_name(v));
	if (json_string_length(v) == 0)
		return refuse(err, errlen, "%s: must not be empty", label);
	/* "\u0000" would silently cut the C string everyone reads. */
	if (strlen(json_string_value(v)) != json_string_length(v))
		return refuse(err, errlen, "%s: must not contain NUL", label);
	*s = json_string_value(v);
	return 0;
}

int
args_bool(const json_t *v, const char *label, int *b, char *err,
    size_t errlen)
{
	if (!json_is_boolean(v))
		return refuse(err, errlen, "%s: must be a boolean, not %s",
		    label, args_type_name(v));
	*b = json_is_true(v);
	return 0;
}

int
args_enum(const json_t *v, const char *label, const char *const *names,
    int *val, char *err, size_t errlen)
{
	const char	*s;
	char		 list[128], qbuf[ARGS_QUOTE_BUF];
	int		 i;

	if (!json_is_string(v))
		return refuse(err, errlen, "%s: must be a string, not %s", label,
		    args_type_name(v));
	s = json_string_value(v);
	for (i = 0; names[i] != NULL; i++)
		if (strcmp(s, names[i]) == 0) {
			*val = i;
			return 0;
		}
	args_list_names(names, list, sizeof(list));
	return refuse(err, errlen, "%s: %s is not one of %s", label,
	    args_quote(s, qbuf, sizeof(qbuf)), list);
}
