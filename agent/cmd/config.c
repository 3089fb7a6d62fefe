// SPDX-License-Identifier: GPL-2.0
/*
 * config.c - --config FILE (INI, inih).
 *
 * A key is a long option's name, found by walking the command's argp
 * tree, so an option added anywhere is a key without a line here.  Each
 * entry is checked alone through argp (the same parsers, the same
 * messages, with FILE:LINE in front), then the file's entries go in
 * front of the command line, minus the keys the command line gives.
 *
 * Lines: inih reads a line through a reader into a buffer whose size is
 * fixed when libinih is built (INI_MAX_LINE, 200 in Debian's; upstream
 * inih has no run-time setting, Debian's ini_max_line is a patch), and
 * cuts a longer line into pieces it parses as lines of their own: a
 * comment's tail became a key.  So synacct reads the file itself (a
 * regular file of at most SA_CONFIG_MAX_BYTES: sa_open_regular) and its
 * reader hands inih exactly one line per call: a comment or a blank line
 * of any length as an empty line, any other line whole if it fits the
 * buffer inih gives (its size is the reader's argument, so the limit is
 * the library's real one), else the error FILE:LINE "line too long".
 * One call per line also keeps inih's line numbers true.
 *
 * SIGHUP reloads the file (sa_config_reload): it is read and checked
 * as at start, then compared key by key with the running one; a key
 * whose value changed must be one the caller can apply while running
 * (interval, ports), else the whole reload is refused ("needs a
 * restart") and the running configuration stays, as it does for a file
 * with an error.  docs/deploy.md, "Configuration changes".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <ini.h>
#include "config.h"
#include "log.h"
#include "options.h"

enum {
	OPT_CONFIG = 0x400,
};

bool sa_config_checking;
static FILE *check_errs;	/* argp's messages while checking an entry */

static const struct argp_option config_options[] = {
	{ "config", OPT_CONFIG, "FILE", 0, "Read options from an INI file (key = long option name, e.g. iface = eth0); the command line overrides it", 0 },
	{ 0 }
};

static error_t config_parse(int key, char *arg, struct argp_state *state)
{
	(void)arg;
	switch (key) {
	case ARGP_KEY_INIT:
		/* Every parser shares the state: argp_error of any of them
		 * writes here while an entry (or a reload) is checked. */
		if (check_errs)
			state->err_stream = check_errs;
		return 0;
	case OPT_CONFIG:
		return 0;	/* read before parsing, by sa_config_load */
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

const struct argp sa_config_argp = {
	config_options, config_parse, NULL, NULL, NULL, NULL, NULL
};

/* ---- the argp tree ---- */

static bool is_option(const struct argp_option *o)
{
	return o->name && !(o->flags & OPTION_DOC) && o->key != OPT_CONFIG;
}

static const struct argp_option *find_exact(const struct argp *a, const char *name,
					    size_t len)
{
	for (const struct argp_option *o = a->options; o && (o->name || o->key || o->doc); o++)
		if (o->name && strlen(o->name) == len && !strncmp(o->name, name, len))
			return o;
	for (const struct argp_child *c = a->children; c && c->argp; c++) {
		const struct argp_option *o = find_exact(c->argp, name, len);

		if (o)
			return o;
	}
	return NULL;
}

static const struct argp_option *find_prefix(const struct argp *a, const char *name,
					     size_t len)
{
	for (const struct argp_option *o = a->options; o && (o->name || o->key || o->doc); o++)
		if (o->name && !strncmp(o->name, name, len))
			return o;
	for (const struct argp_child *c = a->children; c && c->argp; c++) {
		const struct argp_option *o = find_prefix(c->argp, name, len);

		if (o)
			return o;
	}
	return NULL;
}

/* The option named @name (@len chars), or with @prefix, one it
 * abbreviates (argp takes unique prefixes on the command line). */
static const struct argp_option *find_long(const struct argp *a, const char *name,
					   size_t len, bool prefix)
{
	const struct argp_option *o = find_exact(a, name, len);

	return o || !prefix || !len ? o : find_prefix(a, name, len);
}

static const struct argp_option *find_short(const struct argp *a, int key)
{
	for (const struct argp_option *o = a->options; o && (o->name || o->key || o->doc); o++)
		if (o->key == key && !(o->flags & OPTION_DOC))
			return o;
	for (const struct argp_child *c = a->children; c && c->argp; c++) {
		const struct argp_option *o = find_short(c->argp, key);

		if (o)
			return o;
	}
	return NULL;
}

/* Does the command line give option @opt (long, =value, abbreviated,
 * short, or inside a cluster of short options)? */
static bool cmdline_gives(const struct argp *root, int argc, char **argv,
			  const struct argp_option *opt)
{
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (!strcmp(s, "--"))
			return false;
		if (!strncmp(s, "--", 2)) {
			size_t len = strcspn(s + 2, "=");
			const struct argp_option *o = find_long(root, s + 2, len, true);

			if (o == opt)
				return true;
			if (o && o->arg && !(o->flags & OPTION_ARG_OPTIONAL) && !s[2 + len])
				i++;	/* its argument */
			continue;
		}
		if (s[0] != '-' || !s[1])
			continue;
		for (const char *c = s + 1; *c; c++) {
			const struct argp_option *o = find_short(root, (unsigned char)*c);

			if (o == opt)
				return true;
			if (o && o->arg) {
				if (!c[1])
					i++;
				break;
			}
		}
	}
	return false;
}

/* ---- the file ---- */

struct config {
	const char *file;
	char *text;		/* the file, read whole */
	size_t len, pos;	/* its length, the next line's start */
	int line;		/* the line being parsed */
	const struct argp *root;
	size_t input_size;
	int argc;
	char **argv;		/* the command line */
	char **entries;		/* "--key=value" / "--key" */
	int n_entries;
	/* Keys given so far and where: an option takes one value. */
	struct {
		const struct argp_option *o;
		int line;
	} seen[64];
	int n_seen;
	char err[512];		/* the first error */
};

static void fail(struct config *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct config *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->err[0])
		return;
	n = snprintf(c->err, sizeof(c->err), "%s:%d: ", c->file, c->line);
	va_start(ap, fmt);
	vsnprintf(c->err + n, sizeof(c->err) - n, fmt, ap);
	va_end(ap);
}

/* inih reads through this, one line per call (see the top). */
static char *read_line(char *str, int num, void *stream)
{
	struct config *c = stream;
	const char *r, *end, *s;
	size_t n;

	if (c->pos >= c->len || num < 2)
		return NULL;
	r = c->text + c->pos;
	end = memchr(r, '\n', c->len - c->pos);
	n = end ? (size_t)(end - r) : c->len - c->pos;
	c->pos += n + (end != NULL);
	c->line++;
	if (n && r[n - 1] == '\r')
		n--;
	if (memchr(r, '\0', n)) {
		fail(c, "a NUL byte: not a text file");
		n = 0;
	}
	s = r + strspn(r, " \t");
	if (s >= r + n || strchr(";#", *s)) {
		/* A comment or blank line, whatever its length. */
		n = 0;
	} else if (s > r) {
		/* inih joins an indented line to the value above it (a
		 * continuation): a key indented by mistake would vanish into
		 * that value. */
		fail(c, "indented line: start it at the beginning of the line "
		     "(an indented line would continue the value above)");
		n = 0;
	} else if (n > (size_t)num - 2) {
		/* The line, its '\n' and the NUL must fit: never cut. */
		fail(c, "line too long (limit %d bytes; comments may be longer)", num - 2);
		n = 0;
	} else if (*s == '[' && (n < 9 || strncmp(s, "[synacct]", 9))) {
		/* A section with no keys never reaches the handler. */
		fail(c, "unknown section %.*s: keys go before any section or in [synacct]",
		     (int)n, s);
	}
	memcpy(str, r, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
}

/* Read FILE whole: a regular file, at most SA_CONFIG_MAX_BYTES (a config
 * holds a few dozen keys: 1 MiB is plenty, and bounds what a wrong path
 * costs). */
static int read_file(struct config *c)
{
	long long size;
	ssize_t r;
	int fd = sa_open_regular(c->file, "config file", SA_CONFIG_MAX_BYTES, &size);

	if (fd < 0)
		return -1;
	/* One byte more than its size: a file that grew past the limit
	 * since fstat is still refused. */
	c->text = malloc(SA_CONFIG_MAX_BYTES + 1);
	if (!c->text) {
		close(fd);
		sa_err("out of memory");
		return -1;
	}
	while (c->len <= SA_CONFIG_MAX_BYTES) {
		r = read(fd, c->text + c->len, SA_CONFIG_MAX_BYTES + 1 - c->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			sa_err("cannot read config file %s: %s", c->file, strerror(errno));
			close(fd);
			return -1;
		}
		if (!r)
			break;
		c->len += r;
	}
	close(fd);
	if (c->len > SA_CONFIG_MAX_BYTES) {
		sa_err("cannot read config file %s: more than the limit of %d bytes",
		       c->file, SA_CONFIG_MAX_BYTES);
		return -1;
	}
	/* inih skips a UTF-8 BOM on the first line: so does the reader, so
	 * that a first line that is a comment stays one. */
	if (c->len >= 3 && !memcmp(c->text, "\xef\xbb\xbf", 3))
		c->pos = 3;
	return 0;
}

/* Check one entry alone, through the command's own argp parsers; their
 * message (argp_error) is kept for fail(). */
static int check_entry(struct config *c, char *entry)
{
	char *args[] = { c->argv[0], entry, NULL };
	char *msg = NULL, *nl;
	size_t len = 0;
	void *scratch = calloc(1, c->input_size);
	int err = 0;

	check_errs = open_memstream(&msg, &len);
	if (!scratch || !check_errs) {
		fail(c, "out of memory");
		err = -ENOMEM;
		goto cleanup;
	}
	sa_config_checking = true;
	argp_parse(c->root, 2, args, ARGP_NO_EXIT, NULL, scratch);
	sa_config_checking = false;
	fflush(check_errs);
	if (len) {
		/* "synacct: invalid --xdp-mode 'x': ...\nTry ..." */
		const char *m = strncmp(msg, "synacct: ", 9) ? msg : msg + 9;

		nl = strchr(m, '\n');
		if (nl)
			*nl = '\0';
		fail(c, "%s", m);
		err = -EINVAL;
	}
cleanup:
	if (check_errs)
		fclose(check_errs);
	check_errs = NULL;
	free(msg);
	free(scratch);
	return err;
}

static int parse_bool(const char *v)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i]))
			return 1;
		if (!strcasecmp(v, no[i]))
			return 0;
	}
	return -1;
}

/* Options that add a value each time they are given; any other keeps
 * only its last, which in a file hides a mistake. */
static bool repeatable(const struct argp_option *o)
{
	return !strcmp(o->name, "iface");
}

/* Has the file given @o before?  Says where if so. */
static bool already_given(struct config *c, const struct argp_option *o)
{
	for (int i = 0; i < c->n_seen; i++)
		if (c->seen[i].o == o) {
			fail(c, "%s given twice (first on line %d): it takes one value",
			     o->name, c->seen[i].line);
			return true;
		}
	if (c->n_seen < (int)(sizeof(c->seen) / sizeof(c->seen[0])))
		c->seen[c->n_seen++] = (typeof(c->seen[0])){ o, c->line };
	return false;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
	struct config *c = user;
	const struct argp_option *o;
	char *entry, **v;
	int b;

	if (c->err[0])
		return 1;
	if (section[0] && strcmp(section, "synacct"))
		return 0;	/* said by read_line */
	o = find_long(c->root, name, strlen(name), false);
	if (!o || !is_option(o)) {
		fail(c, "unknown key '%s': keys are the long options of synacct --help",
		     name);
		return 0;
	}
	if (!repeatable(o) && already_given(c, o))
		return 0;
	if (o->arg) {
		if (asprintf(&entry, "--%s=%s", name, value) < 0)
			entry = NULL;
	} else {
		b = parse_bool(value);
		if (b < 0) {
			fail(c, "invalid value '%s' for %s: expected yes or no", value, name);
			return 0;
		}
		if (!b)
			return 1;	/* the default */
		if (asprintf(&entry, "--%s", name) < 0)
			entry = NULL;
	}
	if (!entry) {
		fail(c, "out of memory");
		return 0;
	}
	if (check_entry(c, entry)) {
		free(entry);
		return 0;
	}
	/* The command line overrides the file, key by key. */
	if (cmdline_gives(c->root, c->argc, c->argv, o)) {
		free(entry);
		return 1;
	}
	v = realloc(c->entries, (c->n_entries + 1) * sizeof(*v));
	if (!v) {
		free(entry);
		fail(c, "out of memory");
		return 0;
	}
	c->entries = v;
	c->entries[c->n_entries++] = entry;
	return 1;
}

/* The FILE of --config FILE / --config=FILE (or an abbreviation), NULL. */
static const char *config_arg(const struct argp *root, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		size_t len;

		if (!strcmp(s, "--"))
			break;
		if (strncmp(s, "--", 2))
			continue;
		len = strcspn(s + 2, "=");
		if (len < 2 || strncmp("config", s + 2, len) ||
		    find_long(root, s + 2, len, true)->key != OPT_CONFIG)
			continue;
		if (s[2 + len] == '=')
			return s + 3 + len;
		return i + 1 < argc ? argv[i + 1] : NULL;
	}
	return NULL;
}

/* What the running configuration came from, for a reload: the file,
 * the command, the command line and the file's entries now in use.  An
 * entry replaced by a reload is kept (options may point into it), and
 * so are the argument vectors, reachable from here for as long, so that
 * LeakSanitizer (make SANITIZE=1) does not take them for leaks at exit. */
static struct {
	const char *file;
	const struct argp *root;
	size_t input_size;
	int argc;
	char **argv;		/* the command line */
	char **entries;		/* the file's, in use */
	int n_entries;
	struct retired {
		struct retired *next;
		char **entries, **argv;
		int n_entries;
	} *retired;
} running;

/* Read and check @c->file into @c->entries: 0, or the exit status after
 * the error (said on stderr). */
static int load_entries(struct config *c)
{
	int ret;

	if (read_file(c)) {
		free(c->text);
		c->text = NULL;
		return SA_EXIT_USAGE;
	}
	ret = ini_parse_stream(read_line, c, on_entry, c);
	free(c->text);
	c->text = NULL;
	if (ret && !c->err[0])
		snprintf(c->err, sizeof(c->err), "%s:%d: not an INI line: expected key = value",
			 c->file, ret);
	if (!c->err[0])
		return 0;
	for (int i = 0; i < c->n_entries; i++)
		free(c->entries[i]);
	free(c->entries);
	c->entries = NULL;
	c->n_entries = 0;
	return SA_EXIT_USAGE;
}

/* argv[0], @entries, then the command line's arguments. */
static char **join_argv(char **entries, int n_entries, int argc, char **argv)
{
	char **nargv = calloc(argc + n_entries + 1, sizeof(*nargv));

	if (!nargv)
		return NULL;
	nargv[0] = argv[0];
	memcpy(nargv + 1, entries, n_entries * sizeof(*nargv));
	memcpy(nargv + 1 + n_entries, argv + 1, (argc - 1) * sizeof(*nargv));
	return nargv;
}

int sa_config_load(const struct argp *root, size_t input_size, int *argc, char ***argv)
{
	struct config c = {
		.root = root, .input_size = input_size, .argc = *argc, .argv = *argv,
	};
	char **nargv;

	c.file = config_arg(root, *argc, *argv);
	if (!c.file)
		return 0;	/* none, or --config without FILE: argp says so */
	if (load_entries(&c)) {
		if (c.err[0])
			sa_err("%s", c.err);
		return SA_EXIT_USAGE;
	}
	nargv = join_argv(c.entries, c.n_entries, *argc, *argv);
	if (!nargv) {
		sa_err("out of memory");
		return SA_EXIT_RUNTIME;
	}
	running.file = c.file;
	running.root = root;
	running.input_size = input_size;
	running.argc = *argc;
	running.argv = *argv;
	running.entries = c.entries;
	running.n_entries = c.n_entries;
	*argc += c.n_entries;
	*argv = nargv;	/* kept for the life of the process: options point into it */
	running.retired = calloc(1, sizeof(*running.retired));
	if (running.retired)
		running.retired->argv = nargv;
	return 0;
}

const char *sa_config_file(void)
{
	return running.file;
}

/* The key of entry "--key=value" / "--key", and its length. */
static size_t entry_key(const char *e, const char **key)
{
	*key = e + 2;
	return strcspn(e + 2, "=");
}

/* Every value the entries give @key (iface: several), joined with '\n'
 * into @out; "" when none. */
static void key_values(char **entries, int n, const char *key, size_t klen,
		       char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < n && used < len; i++) {
		const char *k;
		size_t l = entry_key(entries[i], &k);

		if (l == klen && !strncmp(k, key, klen))
			used += snprintf(out + used, len - used, "%s\n", k + l);
	}
}

/* Does @key (@klen chars) differ between the running entries and @c's?
 * Added to @changed ("interval, ports") if so. */
static bool key_changed(struct config *c, const char *key, size_t klen,
			char *changed, size_t len)
{
	char a[2048], b[2048];
	size_t used = strlen(changed);

	key_values(running.entries, running.n_entries, key, klen, a, sizeof(a));
	key_values(c->entries, c->n_entries, key, klen, b, sizeof(b));
	if (!strcmp(a, b))
		return false;
	/* Each key once, though iface may come several times. */
	for (const char *p = changed; *p; p += strspn(p, ", ")) {
		size_t n = strcspn(p, ",");

		if (n == klen && !strncmp(p, key, klen))
			return true;
		p += n;
	}
	if (used < len)
		snprintf(changed + used, len - used, "%s%.*s", used ? ", " : "", (int)klen, key);
	return true;
}

int sa_config_reload(void *input, const char *const *runtime, char *changed, size_t len)
{
	struct config c = {
		.file = running.file, .root = running.root,
		.input_size = running.input_size, .argc = running.argc, .argv = running.argv,
	};
	char restart[256] = "", **nargv = NULL, *msg = NULL, *nl;
	struct retired *r = NULL;
	size_t mlen = 0;
	int err = -EINVAL, ret;

	changed[0] = '\0';
	if (!c.file) {
		sa_info("SIGHUP: started without --config, there is no file to reload");
		return -ENOENT;
	}
	if (load_entries(&c)) {
		if (c.err[0])
			sa_err("reload refused: %s; the running configuration stays", c.err);
		else
			sa_err("reload of %s refused (above); the running configuration stays",
			       c.file);
		return -EINVAL;
	}
	/* Every key of either file: those that changed, and among them the
	 * ones that need a restart. */
	for (int pass = 0; pass < 2; pass++) {
		char **e = pass ? c.entries : running.entries;
		int n = pass ? c.n_entries : running.n_entries;

		for (int i = 0; i < n; i++) {
			const char *key;
			size_t klen = entry_key(e[i], &key);
			bool live = false;

			if (!key_changed(&c, key, klen, changed, len))
				continue;
			for (const char *const *k = runtime; *k && !live; k++)
				live = strlen(*k) == klen && !strncmp(*k, key, klen);
			if (!live)
				key_changed(&c, key, klen, restart, sizeof(restart));
		}
	}
	if (restart[0]) {
		sa_err("reload of %s refused: %s changed, which needs a restart "
		       "(only %s%s%s can change while running); the running "
		       "configuration stays", c.file, restart, runtime[0],
		       runtime[0] && runtime[1] ? " and " : "",
		       runtime[0] && runtime[1] ? runtime[1] : "");
		goto out;
	}
	/* The whole command again, as at start, but with argp's messages
	 * kept here rather than ending the process. */
	nargv = join_argv(c.entries, c.n_entries, c.argc, c.argv);
	r = calloc(1, sizeof(*r));
	check_errs = open_memstream(&msg, &mlen);
	if (!nargv || !r || !check_errs) {
		sa_err("reload of %s: out of memory; the running configuration stays", c.file);
		err = -ENOMEM;
		goto out;
	}
	ret = argp_parse(c.root, c.argc + c.n_entries, nargv, ARGP_NO_EXIT, NULL, input);
	fflush(check_errs);
	if (ret || mlen) {
		const char *m = mlen && !strncmp(msg, "synacct: ", 9) ? msg + 9 : msg;

		nl = mlen ? strchr(m, '\n') : NULL;
		if (nl)
			*nl = '\0';
		sa_err("reload of %s refused: %s; the running configuration stays", c.file,
		       mlen ? m : strerror(ret));
		goto out;
	}
	/* Options of the new configuration point into its entries. */
	r->entries = running.entries;
	r->n_entries = running.n_entries;
	r->argv = nargv;
	r->next = running.retired;
	running.retired = r;
	running.entries = c.entries;
	running.n_entries = c.n_entries;
	c.entries = NULL;
	c.n_entries = 0;
	r = NULL;
	nargv = NULL;
	err = 0;
out:
	if (check_errs)
		fclose(check_errs);
	check_errs = NULL;
	free(msg);
	free(r);
	free(nargv);
	for (int i = 0; i < c.n_entries; i++)
		free(c.entries[i]);
	free(c.entries);
	return err;
}
