/* fmt_stmt.c - what a statement from a binlog QUERY event is, by its leading keywords. */
/*
 * One classifier for capture (which statements become records), replay
 * (which Ddl records it may run) and inspect (which it may print). It reads
 * keywords only, never the rest: comments and leading white space are
 * skipped, executable comments (/x!NNNNN ... x/, /xM!NNNNNN ... x/, with x
 * a '*') are read as their contents, since the server runs them.
 */
#include "fmt.h"

#include <string.h>
#include <strings.h>
#include "banned.h"

struct lex {
	const char *s;
	size_t n, i;
};

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

/* Skip white space, comments and the opening of executable comments (and a
 * stray closing of one: its contents were read as code). */
static void skip_blank(struct lex *l)
{
	while (l->i < l->n) {
		const char *p = l->s + l->i;
		size_t left = l->n - l->i;

		if (is_space(*p)) {
			l->i++;
		} else if (left >= 3 && p[0] == '/' && p[1] == '*' && p[2] == '!') {
			l->i += 3;
			while (l->i < l->n && l->s[l->i] >= '0' && l->s[l->i] <= '9')
				l->i++;
		} else if (left >= 4 && p[0] == '/' && p[1] == '*' && p[2] == 'M' && p[3] == '!') {
			l->i += 4;
			while (l->i < l->n && l->s[l->i] >= '0' && l->s[l->i] <= '9')
				l->i++;
		} else if (left >= 2 && p[0] == '/' && p[1] == '*') {
			const char *e = NULL;

			for (size_t k = 2; k + 1 < left; k++)
				if (p[k] == '*' && p[k + 1] == '/') {
					e = p + k;
					break;
				}
			l->i = e ? (size_t)(e - l->s) + 2 : l->n;
		} else if (left >= 2 && p[0] == '*' && p[1] == '/') {
			l->i += 2;
		} else if (*p == '#' || (left >= 2 && p[0] == '-' && p[1] == '-' &&
					 (left == 2 || is_space(p[2])))) {
			while (l->i < l->n && l->s[l->i] != '\n')
				l->i++;
		} else {
			break;
		}
	}
}

/* The next keyword is word (case-insensitive): consume it and say 1. */
static int take(struct lex *l, const char *word)
{
	size_t w = strlen(word), save = l->i;

	skip_blank(l);
	if (l->n - l->i >= w && strncasecmp(l->s + l->i, word, w) == 0 &&
	    (l->n - l->i == w || !is_word_char(l->s[l->i + w]))) {
		l->i += w;
		return 1;
	}
	l->i = save;
	return 0;
}

/* Nothing but blanks and ';' is left. */
static int at_end(struct lex *l)
{
	skip_blank(l);
	while (l->i < l->n && (l->s[l->i] == ';' || is_space(l->s[l->i])))
		l->i++;
	skip_blank(l);
	return l->i >= l->n;
}

/* One name part: `x`, 'x', "x" or a bare word. 0 when there is none. */
static int take_name(struct lex *l)
{
	char q;

	skip_blank(l);
	if (l->i >= l->n)
		return 0;
	q = l->s[l->i];
	if (q == '`' || q == '\'' || q == '"') {
		for (l->i++; l->i < l->n; l->i++) {
			if (l->s[l->i] == '\\' && q != '`' && l->i + 1 < l->n) {
				l->i++;
			} else if (l->s[l->i] == q) {
				if (l->i + 1 < l->n && l->s[l->i + 1] == q) {
					l->i++;
					continue;
				}
				l->i++;
				return 1;
			}
		}
		return 1;
	}
	if (!is_word_char(q))
		return 0;
	while (l->i < l->n && is_word_char(l->s[l->i]))
		l->i++;
	return 1;
}

/* DEFINER = user@host | role | CURRENT_USER[()] | CURRENT_ROLE[()] */
static void skip_definer(struct lex *l)
{
	if (!take(l, "DEFINER"))
		return;
	skip_blank(l);
	if (l->i < l->n && l->s[l->i] == '=')
		l->i++;
	if (!take_name(l))
		return;
	skip_blank(l);
	if (l->i < l->n && l->s[l->i] == '@') {
		l->i++;
		take_name(l);
	} else if (l->i < l->n && l->s[l->i] == '(') {
		skip_blank(l);
		if (l->i + 1 < l->n && l->s[l->i + 1] == ')')
			l->i += 2;
	}
}

static enum fmt_stmt_kind classify(struct lex *l, int depth);

/* MariaDB's SET STATEMENT var=value[, ...] FOR statement: the statement is
 * what runs. Scan to the FOR outside quotes and parentheses. */
static enum fmt_stmt_kind set_statement(struct lex *l, int depth)
{
	int paren = 0;

	while (l->i < l->n) {
		char c;

		skip_blank(l);
		if (l->i >= l->n)
			break;
		c = l->s[l->i];
		if (c == '`' || c == '\'' || c == '"') {
			take_name(l);
		} else if (c == '(') {
			paren++;
			l->i++;
		} else if (c == ')') {
			paren--;
			l->i++;
		} else if (is_word_char(c)) {
			if (paren == 0 && take(l, "FOR"))
				return classify(l, depth + 1);
			take_name(l);
		} else {
			l->i++;
		}
	}
	return FMT_STMT_OTHER;
}

static enum fmt_stmt_kind classify(struct lex *l, int depth)
{
	if (depth > 4)
		return FMT_STMT_OTHER;
	/* transaction control, exactly as the binlog writes it */
	if (take(l, "BEGIN"))
		return at_end(l) ? FMT_STMT_BEGIN : FMT_STMT_OTHER;
	if (take(l, "START"))
		return take(l, "TRANSACTION") && at_end(l) ? FMT_STMT_BEGIN : FMT_STMT_OTHER;
	if (take(l, "COMMIT"))
		return at_end(l) ? FMT_STMT_COMMIT : FMT_STMT_OTHER;
	if (take(l, "ROLLBACK"))
		return at_end(l) ? FMT_STMT_ROLLBACK : FMT_STMT_TXN_OTHER;
	if (take(l, "XA")) {
		if (take(l, "START"))
			return FMT_STMT_BEGIN;
		if (take(l, "PREPARE"))
			return FMT_STMT_COMMIT;
		return FMT_STMT_TXN_OTHER;
	}
	if (take(l, "SAVEPOINT") || take(l, "RELEASE"))
		return FMT_STMT_TXN_OTHER;
	/* DELETE HISTORY FROM t [BEFORE SYSTEM_TIME ...] removes only history
	 * rows of a system-versioned table, which the server logs as a
	 * statement whatever binlog_format says: the destination prunes its
	 * own history with it (sluice carries the current rows). A multi-table
	 * DELETE of a table named history has more after its name. */
	if (take(l, "DELETE")) {
		size_t save = l->i;

		if (take(l, "HISTORY") && take(l, "FROM") && take_name(l)) {
			skip_blank(l);
			if (l->i < l->n && l->s[l->i] == '.') {
				l->i++;
				take_name(l);
			}
			if (at_end(l) || take(l, "BEFORE"))
				return FMT_STMT_OTHER;
		}
		l->i = save;
		return FMT_STMT_DML;
	}
	/* row changes written as statements */
	if (take(l, "INSERT") || take(l, "UPDATE") || take(l, "DELETE") || take(l, "REPLACE") ||
	    take(l, "CALL") || take(l, "DO") || take(l, "SELECT") || take(l, "WITH"))
		return FMT_STMT_DML;
	if (take(l, "LOAD"))
		return take(l, "DATA") || take(l, "XML") ? FMT_STMT_DML : FMT_STMT_OTHER;
	/* accounts */
	if (take(l, "GRANT") || take(l, "REVOKE"))
		return FMT_STMT_ACCOUNT;
	if (take(l, "SET")) {
		if (take(l, "PASSWORD") || take(l, "ROLE") || (take(l, "DEFAULT") && take(l, "ROLE")))
			return FMT_STMT_ACCOUNT;
		if (take(l, "STATEMENT"))
			return set_statement(l, depth);
		return FMT_STMT_OTHER;
	}
	if (take(l, "RENAME"))
		return take(l, "USER") ? FMT_STMT_ACCOUNT : FMT_STMT_OTHER;
	if (take(l, "ALTER"))
		return take(l, "USER") ? FMT_STMT_ACCOUNT : FMT_STMT_OTHER;
	if (take(l, "DROP")) {
		if (take(l, "USER") || take(l, "ROLE"))
			return FMT_STMT_ACCOUNT;
		return take(l, "TRIGGER") ? FMT_STMT_TRIGGER : FMT_STMT_OTHER;
	}
	if (take(l, "CREATE")) {
		if (take(l, "OR") && !take(l, "REPLACE"))
			return FMT_STMT_OTHER;
		if (take(l, "USER") || take(l, "ROLE"))
			return FMT_STMT_ACCOUNT;
		skip_definer(l);
		return take(l, "TRIGGER") ? FMT_STMT_TRIGGER : FMT_STMT_OTHER;
	}
	return FMT_STMT_OTHER;
}

enum fmt_stmt_kind fmt_stmt_classify(const char *s, size_t n)
{
	struct lex l = { s ? s : "", s ? n : 0, 0 };

	return classify(&l, 0);
}

const char *fmt_stmt_kind_name(enum fmt_stmt_kind k)
{
	switch (k) {
	case FMT_STMT_BEGIN: return "begin";
	case FMT_STMT_COMMIT: return "commit";
	case FMT_STMT_ROLLBACK: return "rollback";
	case FMT_STMT_TXN_OTHER: return "transaction control";
	case FMT_STMT_DML: return "statement-format DML";
	case FMT_STMT_ACCOUNT: return "account statement";
	case FMT_STMT_TRIGGER: return "trigger";
	case FMT_STMT_OTHER: break;
	}
	return "ddl";
}

int fmt_stmt_replayed(const char *s, size_t n)
{
	static const char mark[] = FMT_REPLAY_MARK;
	size_t m = sizeof(mark) - 2;	/* without its trailing blank */

	while (n && is_space(*s)) {
		s++;
		n--;
	}
	if (n < m || memcmp(s, mark, m))
		return 0;
	while (n && (is_space(s[n - 1]) || s[n - 1] == ';'))
		n--;
	return n >= sizeof(FMT_REPLAY_NEXT) - 1 &&
	       !memcmp(s + n - (sizeof(FMT_REPLAY_NEXT) - 1), FMT_REPLAY_NEXT, sizeof(FMT_REPLAY_NEXT) - 1) ?
	       2 : 1;
}
