/*
 * dashboard.c - the "dashboard" handler: a live page for a browser.
 *
 * One self-contained HTML page (dashboard.html: inline CSS and
 * JavaScript, no external resource), compiled into the binary by the
 * Makefile as the array dashboard_html. The page polls the status route
 * named by args "status" once a second, computes rates from its
 * counters and draws the last five minutes as SVG. Everything it shows
 * comes from that JSON: this handler only serves the page.
 *
 * The status path is written into the page once per answer, at the one
 * place the page marks for it, an attribute value. init() admits only
 * the characters of an RFC 3986 path that need no escaping in HTML or
 * in JavaScript, so the page is the same bytes as the source plus a
 * path that is text wherever it lands.
 *
 * The Content-Security-Policy forbids every load but the page's own
 * inline code and the fetches of its origin ("self"): a page that polls
 * a server's internals must not be a way to reach anything else.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switchyard.h"
#include "handlers/dashboard_html.h"
#include "handlers/handlers.h"

#define DASHBOARD_MARK		"@STATUS_PATH@"
#define DASHBOARD_PATH_MAX	127	/* a status route's path, as stats */

static const char dashboard_csp[] = "default-src 'none'; "
    "script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'";

struct dashboard {
	char	*status;	/* the status route's path */
	size_t	 mark;		/* offset of DASHBOARD_MARK in the page */
};

/*
 * Unreserved characters and the sub-delimiters of RFC 3986 but '&' and
 * '\'', with ':', '@' and '/': nothing HTML or a JavaScript string
 * would read as anything but itself.
 */
static int
path_char_ok(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || strchr("-._~!$()*+,;=:@%/", ch) != NULL;
}

static int
dashboard_init(const json_t *args, void **state, char *err, size_t errlen)
{
	static const char *const required[] = { "status", NULL };
	static const char *const known[] = { "status", NULL };
	const char		*path, *p, *mark;
	struct dashboard	*d;

	if (sy_args_keys(args, known, required, err, errlen) == -1)
		return -1;
	if ((path = json_string_value(json_object_get(args, "status"))) ==
	    NULL) {
		snprintf(err, errlen, "status: must be a string, the path of "
		    "a status route");
		return -1;
	}
	if (path[0] != '/' || strlen(path) > DASHBOARD_PATH_MAX) {
		snprintf(err, errlen, "status: must be a path of 1..%d "
		    "characters starting with '/', the path of a status route",
		    DASHBOARD_PATH_MAX);
		return -1;
	}
	for (p = path; *p != '\0'; p++)
		if (!path_char_ok((unsigned char)*p)) {
			snprintf(err, errlen, "status: character %#04x is not "
			    "allowed in the path (allowed: letters, digits and "
			    "-._~!$()*+,;=:@%%/)", (unsigned char)*p);
			return -1;
		}
	/* A broken build, not a config error: say so all the same. */
	if ((mark = memmem(dashboard_html, dashboard_html_len, DASHBOARD_MARK,
	    sizeof(DASHBOARD_MARK) - 1)) == NULL) {
		snprintf(err, errlen, "the built-in page has no %s",
		    DASHBOARD_MARK);
		return -1;
	}
	if ((d = malloc(sizeof(*d))) == NULL ||
	    (d->status = strdup(path)) == NULL) {
		free(d);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->mark = (size_t)(mark - dashboard_html);
	*state = d;
	return 0;
}

static void
dashboard_free(void *state)
{
	struct dashboard	*d = state;

	if (d == NULL)
		return;
	free(d->status);
	free(d);
}

static int
dashboard_handle(struct sy_req *req, void *state)
{
	const struct dashboard	*d = state;
	size_t			 rest = d->mark + sizeof(DASHBOARD_MARK) - 1;

	/* The page is small and the numbers are live: never a stale one. */
	if (sy_resp_header(req, "Cache-Control", "no-store") == -1 ||
	    sy_resp_header(req, "Content-Security-Policy", dashboard_csp) ==
	    -1 ||
	    sy_resp_header(req, "X-Content-Type-Options", "nosniff") == -1 ||
	    sy_resp_header(req, "Referrer-Policy", "no-referrer") == -1)
		return SY_ERROR;
	sy_resp_content_type(req, "text/html; charset=utf-8");
	if (sy_resp_body_static(req, dashboard_html, d->mark) == -1 ||
	    sy_resp_body(req, d->status, strlen(d->status)) == -1 ||
	    sy_resp_body_static(req, dashboard_html + rest,
	    dashboard_html_len - rest) == -1)
		return SY_ERROR;
	return SY_DONE;
}

const struct sy_handler handler_dashboard = {
	.abi = SY_ABI_VERSION,
	.name = "dashboard",
	.flags = 0,
	.init = dashboard_init,
	.free = dashboard_free,
	.handle = dashboard_handle,
};
