/*
 * dashboard_html.h - the dashboard's page, dashboard.html, as bytes.
 *
 * The Makefile writes dashboard_html.c from dashboard.html with od(1)
 * and sed(1), so the page stays a file that can be edited and checked
 * as HTML. Not NUL-terminated.
 */
#ifndef DASHBOARD_HTML_H
#define DASHBOARD_HTML_H

#include <stddef.h>

extern const char	dashboard_html[];
extern const size_t	dashboard_html_len;

#endif /* DASHBOARD_HTML_H */
