/*
 * sl.h - small shared pieces: errors, logging, allocation, buffers, DSNs, CRC32C.
 *
 * Depends on libc only; every other folder may include it. Option tables
 * (parsing, -h, bounds, redacted printing) are in common/sl_opt.h.
 *
 * Errors: functions return 0 on success or a negative code: -errno for OS
 *   failures, -SL_E... (below) for ours. The message is built once, at the
 *   failure site, into a caller-owned struct sl_err with sl_err_set(), which
 *   returns the code so a failure is one statement:
 *       return sl_err_set(err, -SL_ECORRUPT, "'%s': bad crc at offset %llu", ...);
 *   Messages are lowercase, one line, no full stop, and name the subject
 *   (file and offset, table, position). They never contain a password:
 *   print DSNs only through sl_dsn_redacted().
 * Logging: sl_log(SL_INFO, "store", "fmt", ...) prints one line on stderr:
 *   time, level, module, message. The level is checked before the arguments
 *   are evaluated. SLUICE_LOG=debug|info|warn|error sets the level
 *   (default info); SLUICE_TRACE=store,capture turns on SL_DEBUG for modules.
 * Allocation: sl_xmalloc() and friends abort with the size on OOM: sluice is
 *   a CLI, not a library.
 * Buffers: struct sl_buf has a hard limit (max); an append past it fails with
 *   -SL_ETOOBIG and leaves the buffer unchanged.
 */
#ifndef SL_H
#define SL_H

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

/* Our error codes, listed once (libuv UV_ERRNO_MAP style). Values are positive
 * here; functions return them negated. They start above errno's range. */
#define SL_ERRNO_MAP(X)                                                   \
	X(EINVAL_ARG, 1000, "invalid argument")                           \
	X(ECORRUPT, 1001, "corrupt data")                                 \
	X(ETORN, 1002, "torn write")                                      \
	X(ETOOBIG, 1003, "value too large")                               \
	X(EFORMAT, 1004, "unsupported format")                            \
	X(EDB, 1005, "database error")                                    \
	X(ECONFIG, 1006, "source configuration")                          \
	X(ESTREAM, 1007, "stream mismatch")                               \
	X(EAPPLY, 1008, "apply failed")                                   \
	X(EEOF, 1009, "end of data")                                      \
	X(EAGAIN_DATA, 1010, "no complete data yet")                      \
	X(EINTR_STOP, 1011, "stopped by signal")                          \
	X(EBUG, 1012, "internal error")                                   \
	X(ETRANSIENT, 1013, "transient failure")                          \
	X(EPURGED, 1014, "binlog no longer on the source")

enum sl_errno {
#define SL_X_(name, val, text) SL_##name = val,
	SL_ERRNO_MAP(SL_X_)
#undef SL_X_
};

/* Text for a (negative) code: ours or strerror(). */
const char *sl_strerror(int code);

#define SL_ERR_LEN 512
struct sl_err {
	int code;		/* 0 or the negative code last set */
	char msg[SL_ERR_LEN];	/* one line, no newline */
};
#define SL_ERR_INIT { 0, { 0 } }

/* Fill err (may be NULL) and return code. Printf-style. */
int sl_err_set(struct sl_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefix an existing message: "ctx: old message". Returns err->code. */
int sl_err_prefix(struct sl_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A broken invariant: print file, line and message, then abort. */
#define sl_bug(...) sl__bug(__FILE__, __LINE__, __VA_ARGS__)
void sl__bug(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

/* ---- logging ---- */
enum sl_level { SL_DEBUG = 0, SL_INFO = 1, SL_WARN = 2, SL_ERROR = 3 };
extern int sl_log_level;	/* messages below this level are dropped */
int sl_log_enabled(enum sl_level lvl, const char *module);
void sl__log(enum sl_level lvl, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define sl_log(lvl, module, ...)                                          \
	do {                                                              \
		if ((int)(lvl) >= sl_log_level || sl_log_enabled((lvl), (module))) \
			sl__log((lvl), (module), __VA_ARGS__);           \
	} while (0)
/* Read SLUICE_LOG / SLUICE_TRACE once at start-up. */
void sl_log_init(void);

/* ---- allocation ---- */
void *sl_xmalloc(size_t n);
void *sl_xcalloc(size_t nmemb, size_t size);
void *sl_xrealloc(void *p, size_t n);
char *sl_xstrdup(const char *s);
char *sl_xstrndup(const char *s, size_t n);
/* Allocate and format, aborting on OOM. */
char *sl_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- buffers ---- */
/* Invariants: len <= cap; len <= max; data is NULL or owns cap bytes. */
struct sl_buf {
	uint8_t *data;
	size_t len, cap;
	size_t max;		/* hard limit */
};
#define SL_BUF_INIT(limit) { .data = NULL, .len = 0, .cap = 0, .max = (limit) }
#define SL_BUF_UNLIMITED ((size_t)1 << 40)
void sl_buf_init(struct sl_buf *b, size_t max);
int sl_buf_reserve(struct sl_buf *b, size_t extra);	/* 0 or -SL_ETOOBIG */
int sl_buf_add(struct sl_buf *b, const void *p, size_t n);
int sl_buf_addc(struct sl_buf *b, uint8_t c);
int sl_buf_adds(struct sl_buf *b, const char *s);	/* without the NUL */
int sl_buf_addf(struct sl_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Keep the contents NUL-terminated (not counted in len); returns data as char*. */
const char *sl_buf_cstr(struct sl_buf *b);
void sl_buf_reset(struct sl_buf *b);			/* len = 0, keeps memory */
void sl_buf_release(struct sl_buf *b);			/* frees; idempotent */
uint8_t *sl_buf_detach(struct sl_buf *b, size_t *len);	/* caller free()s */

/* ---- DSNs ----
 * mysql://user[:password]@host[:port][/db][?socket=PATH&ssl-ca=PATH&...]
 * Parameters: socket, ssl-ca, ssl-cert, ssl-key, ssl-mode, password-file.
 * ssl-mode=disabled|required|verify-ca|verify-identity; when absent it is
 * verify-identity if any ssl-* file is given and disabled otherwise (db/db.h
 * applies it the same way for every connection). verify-ca needs ssl-ca;
 * disabled with an ssl-* file is refused as a contradiction.
 * The password may come from the URL; the env variable named by the caller
 * (SLUICE_SOURCE_PASSWORD / SLUICE_DEST_PASSWORD) overrides it when set and
 * not empty (an empty variable counts as unset), and
 * a password file (?password-file=PATH, first line) is read when given.
 * Percent-escapes are decoded in user, password, db and parameter values.
 * A password holding '@', ':', '/' or '?' unescaped is read the way it was
 * meant when exactly one '@' leaves a valid host[:port][/db][?params] after
 * it; when several do, the URL is refused and the error says to
 * percent-encode. No error message quotes text from before that '@'. */
enum sl_ssl_mode {
	SL_SSL_DISABLED,	/* plain text */
	SL_SSL_REQUIRED,	/* TLS; the server certificate is not checked (unless ssl-ca is given) */
	SL_SSL_VERIFY_CA,	/* TLS; the certificate chains to ssl-ca */
	SL_SSL_VERIFY_IDENTITY,	/* TLS; chain and host name checked */
};
const char *sl_ssl_mode_name(enum sl_ssl_mode m);	/* "verify-identity" ... */

struct sl_dsn {
	char *user;
	char *password;		/* secret: never print */
	char *host;		/* "localhost" when only a socket is given */
	unsigned port;		/* 0 = default 3306 */
	char *db;		/* may be NULL */
	char *socket;		/* may be NULL */
	char *ssl_ca, *ssl_cert, *ssl_key;	/* may be NULL */
	enum sl_ssl_mode ssl_mode;	/* resolved: never "absent" after sl_dsn_parse() */
};
int sl_dsn_parse(struct sl_dsn *d, const char *url, const char *password_env,
		 struct sl_err *err);
void sl_dsn_release(struct sl_dsn *d);
/* Where URL holds a password: *off and *len (bytes) of the text between the
 * user's ':' and the '@' that sl_dsn_parse() takes as the userinfo's end, or,
 * when that is unclear, everything that could be the password. Returns 1 when
 * there is one, 0 when not. Used to hide it from ps: one rule for both. */
int sl_dsn_secret_span(const char *url, size_t *off, size_t *len);
/* "mysql://user@host:port/db" with no password, into a static-per-call buffer
 * owned by the caller (size n); an IPv6 host in brackets ([::1]:3306).
 * Returns out. */
char *sl_dsn_redacted(const struct sl_dsn *d, char *out, size_t n);

/* ---- process ----
 * sl_harden_process(): no core dumps (RLIMIT_CORE 0 and PR_SET_DUMPABLE 0,
 * so passwords and rows in memory never reach a core file, and same-user
 * processes cannot read /proc/PID/environ or mem). main() calls it before
 * anything else; execve() resets it, so every sluice process does. */
int sl_harden_process(struct sl_err *err);

/* ---- names ----
 * A consumer name (replay --consumer, verify --consumer) names a file in
 * DIR/consumers/ and a row of `sluice`.`checkpoint` (VARCHAR(64)): 1 to 64
 * of [A-Za-z0-9_.-], not starting with '.' (no "..", no hidden file).
 * sl_consumer_name_check() returns 0 or -SL_EINVAL_ARG with a message that
 * states the rule; every reader and writer of a consumer name checks it. */
#define SL_CONSUMER_NAME_MAX 64
int sl_consumer_name_check(const char *name, struct sl_err *err);

/* Table patterns (--include/--exclude of verify, snapshot, migrate): a
 * pattern is "db", "db.table" or with wildcards % or * (any run) and _ or ?
 * (one character) in either part: "shop.*", "shop.t%", "%.orders". "db"
 * alone means every table of db. Case-sensitive (table names are on Linux).
 * sl_patterns_match() takes a comma-separated list: 1 a match, 0 none, -1
 * for an empty or NULL list. A table is selected when it matches include
 * (or include is empty) and not exclude. */
int sl_pattern_match(const char *pattern, const char *schema, const char *table);
int sl_patterns_match(const char *list, const char *schema, const char *table);
int sl_table_selected(const char *include, const char *exclude, const char *schema,
		      const char *table);
/* Column patterns (--exclude-columns): "db.table.column", each part with
 * the wildcards above, in a comma-separated list: 1 when one matches. */
int sl_column_patterns_match(const char *list, const char *schema, const char *table,
			     const char *column);
/* For statements on a database as a whole (CREATE/DROP DATABASE): 1 when
 * include is empty or one of its patterns' database part matches schema,
 * and no exclude pattern names the whole database ("db", "db.%", "db.*"). */
int sl_database_touched(const char *include, const char *exclude, const char *schema);

/* Name maps (--map of verify, capture, replay): a comma-separated list of
 * SRC=DST, each a database on both sides ("db=db2": every table of db goes
 * to db2 under its own name) or a table on both sides ("db.t=db2.t2"). A
 * table map wins over a database map. sl_map_check() returns 0 or
 * -SL_EINVAL_ARG naming the first bad entry and its position.
 * sl_map_name() maps schema.table (reverse = 1: DST back to SRC; table may
 * be NULL for a database alone) into *ds and *dt (malloc'd; dt may be NULL
 * when not wanted) and returns 0 when no entry applied (the names are
 * copied as they are), 1 for a database map, 2 for a table map. */
int sl_map_check(const char *map, struct sl_err *err);
int sl_map_name(const char *map, int reverse, const char *schema, const char *table, char **ds,
		char **dt);

/* ---- checksums and small helpers ---- */
/* CRC32C (Castagnoli), as in iSCSI/ext4; crc = 0 to start. */
uint32_t sl_crc32c(uint32_t crc, const void *data, size_t n);
/* Monotonic and wall clocks. */
uint64_t sl_now_ms(void);
uint64_t sl_wall_us(void);
/* Parse "64M", "4k", "1G", "123" into bytes. 0 or -SL_EINVAL_ARG. */
int sl_parse_size(const char *s, uint64_t *out);
/* Parse an age "30", "30s", "15m", "12h", "7d" into seconds. 0 or -SL_EINVAL_ARG. */
int sl_parse_age(const char *s, uint64_t *seconds);
/* Little-endian loads/stores. */
static inline uint16_t sl_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t sl_le24(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16; }
static inline uint32_t sl_le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static inline uint64_t sl_le64(const uint8_t *p) { return (uint64_t)sl_le32(p) | (uint64_t)sl_le32(p + 4) << 32; }
static inline void sl_put_le32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }
static inline void sl_put_le64(uint8_t *p, uint64_t v) { sl_put_le32(p, (uint32_t)v); sl_put_le32(p + 4, (uint32_t)(v >> 32)); }

/* ---- hex (sl_hex.c) ----
 * sl_hex(): n bytes as 2n lowercase hex digits and a NUL into out (2n + 1
 * bytes). sl_unhex(): exactly 2n hex digits (either case) then the string's
 * end into n bytes: 0, or -1 (out undefined) for anything else. */
void sl_hex(char *out, const uint8_t *p, size_t n);
int sl_unhex(const char *s, uint8_t *out, size_t n);

/* ---- files ---- */
/* The one atomic file writer: data (len bytes) becomes the whole of path,
 * or path is left as it was. Writes "<dir>/.<name>.tmp" (mode; a leftover of
 * a crash is removed first, never followed as a link), all of it (short writes
 * resumed), fsync, close, rename over path, then fsync of the directory so
 * the rename survives a crash. Every step is checked: 0, or a negative errno
 * with err naming the file and the step ("cannot write '...': No space
 * left on device"); on failure the temp file is removed. */
int sl_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode,
			 struct sl_err *err);
/* fsync a directory, so a create, rename or unlink in it is durable. */
int sl_fsync_dir(const char *dir, struct sl_err *err);

/* Signals: cli installs handlers for SIGINT/SIGTERM that set this flag;
 * long loops poll it and finish cleanly. Threads other than main call
 * sl_block_stop_signals() first, so the handler runs on the main thread.
 * An atomic, not a volatile sig_atomic_t: worker threads (the snapshot's
 * readers, replay's loaders) read it while the handler writes it on the
 * main thread, and only an atomic makes that a defined read (lock-free
 * atomics are safe in a signal handler; TSan found the race). */
extern atomic_int sl_stop_requested;
void sl_install_stop_handlers(void);
void sl_block_stop_signals(void);
/* A stop request also shuts socket fd down (-1: none), so that a read
 * blocked on it returns at once instead of at the peer's next packet
 * (capture's binlog dump, idle between events, waits up to its heartbeat
 * period). Set it back to -1 before the socket is closed: its number may
 * be reused. */
void sl_stop_interrupts(int fd);

/* ---- retrying what passes (sl_retry.c) ----
 * Long-running commands (capture, replay, the migrate task) meet lost
 * connections, server restarts, read_only flips, deadlocks, lock-wait
 * timeouts and bytes damaged in transit. Code that meets one returns
 * -SL_ETRANSIENT (db_code() in db/ decides which server errors are); the
 * command's outer loop then calls sl_retry_again(), which logs one line per
 * attempt and sleeps with capped exponential backoff (100 ms doubling to
 * 2 s, so work resumes within about 2 s of a server's return), and runs the
 * work again from its durable position. Once failures have lasted the
 * limit (--retry-for, default 10 min) without progress in between, it
 * gives up: err becomes "gave up after ...: <last error>" with -SL_EDB
 * (exit 2). sl_retry_up() says the work runs again (log line, state
 * "running"); progress made by a round (sl_retry_again()'s progressed)
 * starts the clock again at the next failure: "up" alone does not, so a
 * server that accepts connections and fails every statement (read_only) is
 * given up after the limit.
 * State file (optional): written once the work runs or waits (a command
 * refused at once leaves none), rewritten atomically at each change, for
 * `sluice status`: lines "state running|reconnecting|stopped|failed",
 * "pid N", "since UNIXTIME", "attempt N", "error MSG" (the last failure;
 * messages never hold a password). sl_retry_state_read() parses it. */
#define SL_RETRY_DEFAULT_MS (10u * 60u * 1000u)
struct sl_retry {
	const char *module;	/* for the log line: "capture", "replay" */
	const char *what;	/* what is retried: "source mysql://u@h:1/" */
	uint64_t limit_ms;	/* 0: never retry */
	char *state_path;	/* NULL: no state file */
	uint64_t first_ms;	/* monotonic start of the current failures, 0: none */
	unsigned attempt;	/* in the current failures */
	uint64_t delay_ms;
	int state;		/* the last written (enum in sl_retry.c) */
	int written;		/* the state file exists: the work ran or waited */
	char last[SL_ERR_LEN];	/* the last failure */
};
void sl_retry_init(struct sl_retry *r, const char *module, const char *what, uint64_t limit_ms,
		   const char *state_path);
/* After a round of the work ended with *rc (err filled when <0): 1 run it
 * again (after the wait); 0 stop with *rc, which is then the round's own
 * code when not -SL_ETRANSIENT, -SL_EDB when it may not wait (may_wait 0:
 * a one-shot command that never connected) or gave up (err rewritten), or
 * 0 when a stop was requested while waiting. progressed: the round made
 * progress, which restarts the clock. */
int sl_retry_again(struct sl_retry *r, int *rc, int progressed, int may_wait, struct sl_err *err);
void sl_retry_up(struct sl_retry *r);
/* The end: state "stopped" (rc 0) or "failed" with err's message. */
void sl_retry_end(struct sl_retry *r, int rc, const struct sl_err *err);
void sl_retry_release(struct sl_retry *r);
struct sl_retry_state {
	char state[16];
	long long pid, since, attempt;
	char error[SL_ERR_LEN];
};
/* 0, or -errno (-ENOENT: no such file). */
int sl_retry_state_read(const char *path, struct sl_retry_state *s);

/* ---- failpoints (sl_fail.c) ----
 * Named crash points for tests, "<module>.<step>": sl_failpoint("store.sync.after")
 * kills the process with SIGKILL (after one log line "failpoint <name>:
 * killing this process") when the environment variable SLUICE_FAILPOINT
 * arms that name. SLUICE_FAILPOINT="name[@N],name[@N]..." (at most 16):
 * "name" kills the first time the point is reached, "name@N" the N-th time
 * in this process (counted atomically: the segment writer's thread, replay's
 * workers and snapshot readers reach points too), so a crash lands in the
 * middle of a stream. Every name is in the registry of sl_fail.c and in the
 * table of tests/integration/README.md; an armed name not there is refused.
 * sl_failpoint_check() parses SLUICE_FAILPOINT (once per process) and
 * returns 0 or -SL_EINVAL_ARG naming an unknown name or a bad count; main()
 * calls it before any command, so a test cannot arm a point that does not
 * exist (exit 2). A point reached that is not in the registry is a bug.
 * Cost when nothing is armed: a pthread_once and a branch per point.
 * Compiled in when SLUICE_FAILPOINTS is defined (CMake option of that name,
 * on by default); without it sl_failpoint() is an empty statement and a
 * set SLUICE_FAILPOINT is refused by sl_failpoint_check(). */
int sl_failpoint_check(struct sl_err *err);
#ifdef SLUICE_FAILPOINTS
void sl_failpoint(const char *name);
#else
#define sl_failpoint(name) ((void)(name))
#endif

#endif
