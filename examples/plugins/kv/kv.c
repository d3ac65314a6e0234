/*
 * kv.c - the "kv" plugin: a JSON key/value API on SQLite.
 *
 *   PUT    /kv/KEY    store the body (and its Content-Type): 201 created,
 *                     200 replaced; {"key": K, "version": N, "bytes": B}
 *   GET    /kv/KEY    200 with the stored body and Content-Type, or 404
 *   DELETE /kv/KEY    204, or 404
 *   GET    /kv/       the keys in byte order, ?limit=N (1..1000, 100)
 *                     &after=KEY: {"keys": [...], "next": KEY or null};
 *                     "next" goes in the next page's "after"
 *
 * A key is 1 to 256 characters among A-Z a-z 0-9 - . _ ~ (RFC 3986's
 * unreserved set, so a key never needs percent-encoding), other than "."
 * and "..". Errors are {"detail": "..."}: 400 bad key or query, 404, 405
 * (with Allow), 413 value too large, 503 database busy, 500 otherwise.
 *
 * SQLite has no asynchronous interface: every call blocks the thread that
 * makes it, on disk I/O and on other writers' locks. On a "blocking"
 * route that is a pool thread, FastAPI's plain "def" endpoint with a
 * synchronous database driver; on a "nonblocking" route it is the event
 * loop, so each query stalls every connection of the worker: the "async
 * def with a blocking database call" pitfall, measurable with slow_scan.
 *
 * Threads. A sqlite3 connection is used by one thread only. Each thread
 * that runs handle() (the loop, or each pool thread) opens its own on
 * first use and keeps it in a thread-specific slot (kv_state.tls), with
 * its prepared statements; the slot's destructor closes it when a pool
 * thread exits. Every open connection is also on kv_state.dbs, under a
 * mutex taken only to open or close one, so that free() can close those
 * of threads that never exit through pthread_exit (the loop thread).
 * WAL mode lets readers run beside the single writer; a writer waits for
 * another one up to busy_timeout_ms, and only then answers 503.
 *
 * Processes. init() runs in each process that loads the config (the
 * validation child, then every worker) before any thread starts: it
 * checks the args, creates the schema and the slow_scan table, and
 * closes its connection again, so no SQLite handle ever crosses fork().
 *
 * args:
 *   "database"         required: the SQLite file, created if missing. A
 *                      relative path is relative to the server's working
 *                      directory (switchyard does not chdir; systemd
 *                      starts it in /).
 *   "busy_timeout_ms"  how long a write waits for another (5000)
 *   "max_value_bytes"  the largest value (1048576; limits.body_bytes
 *                      bounds it too)
 *   "slow_scan"        N: each GET first sums a table of N rows
 *                      (kv_scan, created and filled at init), a stand-in
 *                      for a slow query (0, off)
 */
/* strdup(3), POSIX threads, with -std=c11. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "switchyard.h"

#define KV_KEY_MAX		256
#define KV_CTYPE_MAX		127	/* what sy_resp_content_type() keeps */
#define KV_LIMIT_DEFAULT	100
#define KV_LIMIT_MAX		1000
#define KV_BUSY_DEFAULT		5000
#define KV_VALUE_DEFAULT	1048576
#define KV_VALUE_MAX		1000000000	/* SQLite's SQLITE_MAX_LENGTH */
#define KV_SCAN_MAX		10000000

/* The statements each connection prepares once. */
enum kv_stmt {
	KV_GET,
	KV_PUT,
	KV_DEL,
	KV_LIST,
	KV_SCAN,
	KV_NSTMT
};

static const char *const kv_sql[KV_NSTMT] = {
	[KV_GET] = "SELECT value, content_type FROM kv WHERE key = ?1",
	/*
	 * One statement, so one write lock taken up front (the busy handler
	 * applies); version 1 in RETURNING means the row is new, which is
	 * what tells 201 from 200 without a second query.
	 */
	[KV_PUT] = "INSERT INTO kv (key, value, content_type) "
	    "VALUES (?1, ?2, ?3) ON CONFLICT (key) DO UPDATE SET "
	    "value = excluded.value, content_type = excluded.content_type, "
	    "version = version + 1 RETURNING version",
	[KV_DEL] = "DELETE FROM kv WHERE key = ?1",
	[KV_LIST] = "SELECT key FROM kv WHERE key > ?1 ORDER BY key LIMIT ?2",
	[KV_SCAN] = "SELECT sum(v) FROM kv_scan"
};

static const char kv_schema[] =
    "CREATE TABLE IF NOT EXISTS kv ("
    " key TEXT PRIMARY KEY NOT NULL,"
    " value BLOB NOT NULL,"
    " content_type TEXT NOT NULL,"
    " version INTEGER NOT NULL DEFAULT 1)";

struct kv_state;

/* One thread's connection. */
struct kv_db {
	sqlite3			*db;
	sqlite3_stmt		*stmt[KV_NSTMT];	/* KV_SCAN: NULL if off */
	struct kv_state		*st;
	struct kv_db		*prev, *next;		/* st->dbs, under lock */
};

/* One route's settings and connections. */
struct kv_state {
	char			*path;		/* "database" */
	int			 busy_timeout_ms;
	unsigned long		 max_value_bytes;
	unsigned long		 slow_scan;	/* rows; 0: off */
	pthread_key_t		 tls;		/* this thread's struct kv_db */
	pthread_mutex_t		 lock;		/* dbs */
	struct kv_db		*dbs;		/* every open connection */
};

/* -- connections ---------------------------------------------------------- */

static void
kv_db_close(struct kv_db *d)
{
	int	 i;

	for (i = 0; i < KV_NSTMT; i++)
		(void)sqlite3_finalize(d->stmt[i]);	/* NULL is a no-op */
	(void)sqlite3_close(d->db);
	free(d);
}

/* The tls destructor: a pool thread is exiting. */
static void
kv_db_release(void *arg)
{
	struct kv_db	*d = arg;
	struct kv_state	*st = d->st;

	(void)pthread_mutex_lock(&st->lock);
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		st->dbs = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	(void)pthread_mutex_unlock(&st->lock);
	kv_db_close(d);
}

/*
 * Open path with the settings every connection shares. Returns an SQLite
 * result code; *dbp is set either way (sqlite3_open_v2 may return a
 * handle with an error, which the caller closes).
 */
static int
kv_open(const char *path, int busy_timeout_ms, sqlite3 **dbp)
{
	int	 rc;

	/*
	 * NOMUTEX: a connection never leaves its thread, so SQLite's
	 * per-connection mutex would only cost. The library itself must
	 * still be thread-safe (checked in init).
	 */
	rc = sqlite3_open_v2(path, dbp, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return rc;
	if ((rc = sqlite3_busy_timeout(*dbp, busy_timeout_ms)) != SQLITE_OK)
		return rc;
	/*
	 * With WAL, NORMAL syncs at checkpoints, not at each commit: a power
	 * loss may lose the last commits but never corrupts the file. The
	 * usual choice for WAL, and what keeps a PUT from costing an fsync.
	 */
	return sqlite3_exec(*dbp, "PRAGMA synchronous = NORMAL", NULL, NULL,
	    NULL);
}

/* This thread's connection, opened on first use; NULL with *rc set. */
static struct kv_db *
kv_db_get(struct kv_state *st, int *rc)
{
	struct kv_db	*d;
	int		 i;

	if ((d = pthread_getspecific(st->tls)) != NULL)
		return d;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		*rc = SQLITE_NOMEM;
		return NULL;
	}
	d->st = st;
	if ((*rc = kv_open(st->path, st->busy_timeout_ms, &d->db)) !=
	    SQLITE_OK)
		goto fail;
	for (i = 0; i < KV_NSTMT; i++) {
		if (i == KV_SCAN && st->slow_scan == 0)
			continue;
		/* PERSISTENT: these live as long as the connection. */
		if ((*rc = sqlite3_prepare_v3(d->db, kv_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &d->stmt[i], NULL)) !=
		    SQLITE_OK)
			goto fail;
	}
	if ((*rc = pthread_setspecific(st->tls, d)) != 0) {
		*rc = SQLITE_NOMEM;
		goto fail;
	}
	(void)pthread_mutex_lock(&st->lock);
	d->next = st->dbs;
	if (st->dbs != NULL)
		st->dbs->prev = d;
	st->dbs = d;
	(void)pthread_mutex_unlock(&st->lock);
	return d;

fail:
	kv_db_close(d);
	return NULL;
}

/* -- args and schema ------------------------------------------------------ */

/* Fill kv_scan with n rows unless it has them already. */
static int
kv_scan_fill(sqlite3 *db, unsigned long n, char *err, size_t errlen)
{
	static const char fill[] =
	    "DELETE FROM kv_scan;"
	    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c"
	    " WHERE i < %lu) INSERT INTO kv_scan (n, v) SELECT i, i %% 1000"
	    " FROM c;";
	sqlite3_stmt	*count = NULL;
	char		 sql[sizeof(fill) + 32];
	int		 rc, pass;

	if (sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS kv_scan ("
	    " n INTEGER PRIMARY KEY, v INTEGER NOT NULL)", NULL, NULL,
	    NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM kv_scan", -1,
	    &count, NULL) != SQLITE_OK)
		goto fail;
	/*
	 * Every worker runs this at once, at start and at each reload:
	 * count first without a write lock, and only when the table must
	 * change take the lock (BEGIN IMMEDIATE waits busy_timeout_ms for
	 * it) and count again, so one process fills it and the others find
	 * it filled.
	 */
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1 && sqlite3_exec(db, "BEGIN IMMEDIATE", NULL,
		    NULL, NULL) != SQLITE_OK)
			goto fail;
		if ((rc = sqlite3_step(count)) != SQLITE_ROW)
			goto fail;
		if ((unsigned long)sqlite3_column_int64(count, 0) == n) {
			(void)sqlite3_reset(count);
			if (pass == 1)
				(void)sqlite3_exec(db, "COMMIT", NULL, NULL,
				    NULL);
			sqlite3_finalize(count);
			return 0;
		}
		(void)sqlite3_reset(count);
	}
	(void)snprintf(sql, sizeof(sql), fill, n);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_finalize(count);
	return 0;

fail:
	(void)snprintf(err, errlen, "slow_scan: cannot fill kv_scan: %s",
	    sqlite3_errmsg(db));
	sqlite3_finalize(count);
	(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Create the file and the schema now, so a bad path fails the load. */
static int
kv_schema_init(const struct kv_state *st, char *err, size_t errlen)
{
	sqlite3_stmt	*mode = NULL;
	sqlite3		*db = NULL;
	const char	*got;
	int		 rc = -1;

	if (kv_open(st->path, st->busy_timeout_ms, &db) != SQLITE_OK) {
		(void)snprintf(err, errlen, "database: cannot open %s: %s",
		    st->path, db != NULL ? sqlite3_errmsg(db) :
		    "out of memory");
		goto done;
	}
	/*
	 * WAL is a property of the file: set once, it stays. The answer is
	 * the mode in force, which stays "delete" where WAL cannot work (a
	 * file system without shared memory, such as some network mounts).
	 */
	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &mode,
	    NULL) != SQLITE_OK || sqlite3_step(mode) != SQLITE_ROW) {
		(void)snprintf(err, errlen, "database: %s: %s", st->path,
		    sqlite3_errmsg(db));
		goto done;
	}
	got = (const char *)sqlite3_column_text(mode, 0);
	if (got == NULL || strcmp(got, "wal") != 0) {
		(void)snprintf(err, errlen, "database: %s: cannot use WAL "
		    "mode (journal_mode is %s)", st->path, got ? got : "?");
		goto done;
	}
	/* A statement still stepping would keep COMMIT from ending. */
	(void)sqlite3_finalize(mode);
	mode = NULL;
	if (sqlite3_exec(db, kv_schema, NULL, NULL, NULL) != SQLITE_OK) {
		(void)snprintf(err, errlen, "database: %s: %s", st->path,
		    sqlite3_errmsg(db));
		goto done;
	}
	if (st->slow_scan > 0 && kv_scan_fill(db, st->slow_scan, err,
	    errlen) == -1)
		goto done;
	rc = 0;

done:
	sqlite3_finalize(mode);
	/* Closed here: no handle may survive into a fork or a thread. */
	(void)sqlite3_close(db);
	return rc;
}

static void
kv_free(void *state)
{
	struct kv_state	*st = state;
	struct kv_db	*d;

	if (st == NULL)
		return;
	/*
	 * Pool threads that exited have closed theirs; what is left belongs
	 * to threads that are done with requests (the loop, at exit).
	 * Deleting the key first means no destructor can run on st later.
	 */
	(void)pthread_key_delete(st->tls);
	while ((d = st->dbs) != NULL) {
		st->dbs = d->next;
		kv_db_close(d);
	}
	(void)pthread_mutex_destroy(&st->lock);
	free(st->path);
	free(st);
}

static int
kv_init(const json_t *args, void **state, char *err, size_t errlen)
{
	static const char *const known[] = { "database", "busy_timeout_ms",
	    "max_value_bytes", "slow_scan", NULL };
	static const char *const required[] = { "database", NULL };
	struct kv_state	*st;
	const json_t	*v;
	unsigned long	 busy = KV_BUSY_DEFAULT;
	int		 rc;

	if (sy_args_keys(args, known, required, err, errlen) == -1)
		return -1;
	v = json_object_get(args, "database");
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		(void)snprintf(err, errlen, "database: must be a file name");
		return -1;
	}
	/* RETURNING came with 3.35.0 (2021). */
	if (sqlite3_libversion_number() < 3035000 || !sqlite3_threadsafe()) {
		(void)snprintf(err, errlen, "database: SQLite %s is too old or "
		    "not thread-safe (3.35 or later, threadsafe, is needed)",
		    sqlite3_libversion());
		return -1;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->path = strdup(json_string_value(v))) == NULL) {
		free(st);
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	st->max_value_bytes = KV_VALUE_DEFAULT;
	if (sy_args_uint(args, "busy_timeout_ms", 0, 0, 3600000, &busy, err,
	    errlen) == -1 ||
	    sy_args_uint(args, "max_value_bytes", 0, 0, KV_VALUE_MAX,
	    &st->max_value_bytes, err, errlen) == -1 ||
	    sy_args_uint(args, "slow_scan", 0, 0, KV_SCAN_MAX, &st->slow_scan,
	    err, errlen) == -1)
		goto fail;
	st->busy_timeout_ms = (int)busy;
	if (kv_schema_init(st, err, errlen) == -1)
		goto fail;
	if ((rc = pthread_key_create(&st->tls, kv_db_release)) != 0) {
		(void)snprintf(err, errlen, "database: pthread_key_create: %s",
		    strerror(rc));
		goto fail;
	}
	if ((rc = pthread_mutex_init(&st->lock, NULL)) != 0) {
		(void)pthread_key_delete(st->tls);
		(void)snprintf(err, errlen, "database: pthread_mutex_init: %s",
		    strerror(rc));
		goto fail;
	}
	*state = st;
	return 0;

fail:
	free(st->path);
	free(st);
	return -1;
}

/* -- requests ------------------------------------------------------------- */

/* 1..KV_KEY_MAX unreserved characters, not "." or "..". */
static int
kv_key_ok(const char *key, size_t len)
{
	static const char	 extra[] = "-._~";
	size_t			 i;

	if (len == 0 || len > KV_KEY_MAX)
		return 0;
	if (strcmp(key, ".") == 0 || strcmp(key, "..") == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!((key[i] >= 'a' && key[i] <= 'z') ||
		    (key[i] >= 'A' && key[i] <= 'Z') ||
		    (key[i] >= '0' && key[i] <= '9') ||
		    strchr(extra, key[i]) != NULL))
			return 0;
	return 1;
}

static int
kv_bad_key(struct sy_req *req)
{
	return sy_resp_error(req, 400, "key: 1 to 256 characters among "
	    "A-Z a-z 0-9 - . _ ~, other than \".\" and \"..\"") == -1 ?
	    SY_ERROR : SY_DONE;
}

static int
kv_refuse(struct sy_req *req, const char *allow)
{
	if (sy_resp_header(req, "Allow", allow) == -1 ||
	    sy_resp_error(req, 405, "method not allowed") == -1)
		return SY_ERROR;
	return SY_DONE;
}

/*
 * Answer an SQLite failure. A lock held past busy_timeout_ms is the
 * client's to retry, not a server fault.
 */
static int
kv_db_error(struct sy_req *req, int rc)
{
	char	 msg[128];

	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
		if (sy_resp_header(req, "Retry-After", "1") == -1 ||
		    sy_resp_error(req, 503, "database is busy, retry") == -1)
			return SY_ERROR;
		return SY_DONE;
	}
	/* The generic text (no path, no SQL): this goes to the client. */
	(void)snprintf(msg, sizeof(msg), "database error: %s",
	    sqlite3_errstr(rc));
	return sy_resp_error(req, 500, msg) == -1 ? SY_ERROR : SY_DONE;
}

/* The slow query of slow_scan, before each GET. */
static int
kv_scan(struct kv_db *d)
{
	sqlite3_stmt	*s = d->stmt[KV_SCAN];
	int		 rc;

	if (s == NULL)
		return SQLITE_OK;
	rc = sqlite3_step(s);
	(void)sqlite3_reset(s);
	return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int
kv_get(struct sy_req *req, struct kv_db *d, const char *key, size_t len)
{
	sqlite3_stmt	*s = d->stmt[KV_GET];
	const void	*val;
	int		 rc, ret;

	if ((rc = kv_scan(d)) != SQLITE_OK)
		return kv_db_error(req, rc);
	(void)sqlite3_bind_text(s, 1, key, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		/* Copied out before the reset, which invalidates them. */
		val = sqlite3_column_blob(s, 0);
		sy_resp_content_type(req,
		    (const char *)sqlite3_column_text(s, 1));
		ret = sy_resp_body(req, val != NULL ? val : "",
		    (size_t)sqlite3_column_bytes(s, 0)) == -1 ?
		    SY_ERROR : SY_DONE;
	} else if (rc == SQLITE_DONE)
		ret = sy_resp_error(req, 404, "no such key") == -1 ?
		    SY_ERROR : SY_DONE;
	else
		ret = kv_db_error(req, rc);
	/* Always: a statement left stepping holds its read snapshot. */
	(void)sqlite3_reset(s);
	return ret;
}

static int
kv_put(struct sy_req *req, struct kv_state *st, struct kv_db *d,
    const char *key, size_t len)
{
	sqlite3_stmt	*s = d->stmt[KV_PUT];
	const char	*ctype = sy_req_header(req, "Content-Type");
	const void	*body;
	size_t		 body_len;
	long long	 version;
	char		 msg[96], loc[KV_KEY_MAX + 1024];
	int		 rc, created;

	body = sy_req_body(req, &body_len);
	if (body_len > st->max_value_bytes) {
		(void)snprintf(msg, sizeof(msg), "value: %zu bytes, at most "
		    "%lu", body_len, st->max_value_bytes);
		return sy_resp_error(req, 413, msg) == -1 ? SY_ERROR : SY_DONE;
	}
	if (ctype == NULL || *ctype == '\0')
		ctype = "application/octet-stream";
	if (strlen(ctype) > KV_CTYPE_MAX)
		return sy_resp_error(req, 400, "Content-Type: longer than "
		    "127 bytes") == -1 ? SY_ERROR : SY_DONE;
	(void)sqlite3_bind_text(s, 1, key, (int)len, SQLITE_STATIC);
	(void)sqlite3_bind_blob(s, 2, body, (int)body_len, SQLITE_STATIC);
	(void)sqlite3_bind_text(s, 3, ctype, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		(void)sqlite3_reset(s);
		return kv_db_error(req, rc);
	}
	version = sqlite3_column_int64(s, 0);
	/* Stepped to the end: the statement, and so the write, is over. */
	rc = sqlite3_step(s);
	(void)sqlite3_reset(s);
	(void)sqlite3_clear_bindings(s);	/* the body goes away */
	if (rc != SQLITE_DONE)
		return kv_db_error(req, rc);
	created = version == 1;
	if (created) {
		(void)snprintf(loc, sizeof(loc), "%s%s", sy_req_route(req),
		    key);
		(void)sy_resp_header(req, "Location", loc);
	}
	return sy_resp_json(req, created ? 201 : 200, json_pack("{s:s%,s:I,"
	    "s:I}", "key", key, len, "version", (json_int_t)version, "bytes",
	    (json_int_t)body_len)) == -1 ? SY_ERROR : SY_DONE;
}

static int
kv_delete(struct sy_req *req, struct kv_db *d, const char *key, size_t len)
{
	sqlite3_stmt	*s = d->stmt[KV_DEL];
	int		 rc;

	(void)sqlite3_bind_text(s, 1, key, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(s);
	(void)sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return kv_db_error(req, rc);
	if (sqlite3_changes(d->db) == 0)
		return sy_resp_error(req, 404, "no such key") == -1 ?
		    SY_ERROR : SY_DONE;
	sy_resp_status(req, 204);
	return SY_DONE;
}

static int
kv_list(struct sy_req *req, struct kv_db *d)
{
	sqlite3_stmt	*s = d->stmt[KV_LIST];
	json_t		*keys, *next = NULL;
	unsigned long	 limit = KV_LIMIT_DEFAULT, n = 0;
	char		 after[KV_KEY_MAX + 1];
	ssize_t		 alen;
	int		 rc;

	if (sy_req_query_uint(req, "limit", 1, KV_LIMIT_MAX, &limit) == -1)
		return sy_resp_error(req, 400, "limit: must be an integer in "
		    "1..1000") == -1 ? SY_ERROR : SY_DONE;
	alen = sy_req_query(req, "after", after, sizeof(after));
	if (alen == -1)
		alen = 0;		/* from the start: every key is > "" */
	else if (alen == -2 || (alen > 0 && !kv_key_ok(after, (size_t)alen)))
		return sy_resp_error(req, 400, "after: must be a key") == -1 ?
		    SY_ERROR : SY_DONE;
	if ((rc = kv_scan(d)) != SQLITE_OK)
		return kv_db_error(req, rc);
	if ((keys = json_array()) == NULL)
		return SY_ERROR;
	(void)sqlite3_bind_text(s, 1, after, (int)alen, SQLITE_STATIC);
	/* One row more than asked: whether there is a next page. */
	(void)sqlite3_bind_int64(s, 2, (sqlite3_int64)limit + 1);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char	*k = (const char *)sqlite3_column_text(s, 0);

		if (k == NULL)
			continue;
		if (++n > limit) {
			rc = SQLITE_DONE;
			next = json_array_get(keys, limit - 1);
			break;
		}
		if (json_array_append_new(keys, json_string(k)) == -1) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	(void)sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		json_decref(keys);
		return kv_db_error(req, rc);
	}
	return sy_resp_json(req, 200, json_pack("{s:o,s:O}", "keys", keys,
	    "next", next != NULL ? next : json_null())) == -1 ?
	    SY_ERROR : SY_DONE;
}

static int
kv_handle(struct sy_req *req, void *state)
{
	struct kv_state	*st = state;
	struct kv_db	*d;
	const char	*method = sy_req_method(req);
	const char	*key;
	size_t		 len;
	int		 rc;

	/*
	 * The route is a prefix route such as "/kv/": what follows it is
	 * the key, as sent (a key has no character that needs decoding, so
	 * a '%' is simply refused).
	 */
	key = sy_req_path(req) + strlen(sy_req_route(req));
	len = strlen(key);
	if (len == 0) {
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
			return kv_refuse(req, "GET, HEAD");
	} else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
	    strcmp(method, "PUT") != 0 && strcmp(method, "DELETE") != 0)
		return kv_refuse(req, "GET, HEAD, PUT, DELETE");
	else if (!kv_key_ok(key, len))
		return kv_bad_key(req);

	if ((d = kv_db_get(st, &rc)) == NULL)
		return kv_db_error(req, rc);
	if (len == 0)
		return kv_list(req, d);
	switch (method[0]) {
	case 'P':
		return kv_put(req, st, d, key, len);
	case 'D':
		return kv_delete(req, d, key, len);
	default:
		return kv_get(req, d, key, len);
	}
}

static const struct sy_handler kv_handler = {
	.abi = SY_ABI_VERSION,
	.name = "kv",
	.flags = 0,		/* either mode: see the top of the file */
	.init = kv_init,
	.free = kv_free,
	.handle = kv_handle,
};

/* The symbol the server looks up after dlopen(). */
#ifdef SY_PLUGIN
SY_PLUGIN(&kv_handler);
#else
__attribute__((visibility("default")))
const struct sy_handler *const sy_plugin_handlers[] = { &kv_handler, NULL };
#endif
