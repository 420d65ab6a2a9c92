/*
 * src/config.c - topology and job files: YAML -> node tree -> schema tables.
 *
 * Design.  Loading runs in four steps, each of which can stop with one
 * error that names the user's input:
 *   1. read the whole file (at most WSE_CONFIG_MAX_BYTES) and refuse empty,
 *      NUL-containing or invalid UTF-8 input before libyaml sees it, because
 *      libyaml reports such bytes as offsets, not as line and column;
 *   2. drive libyaml's event parser to build a small tree of nodes (scalar,
 *      mapping, sequence) carrying 1-based marks.  Anchors, aliases, tags,
 *      a second document and nesting deeper than WSE_CONFIG_MAX_DEPTH are
 *      refused while building, so the tree is finite, acyclic and shallow
 *      (an alias bomb stops at its first anchor);
 *   3. apply --set overrides by editing the tree, so an override goes
 *      through exactly the same checks as file content; nodes made by an
 *      override carry their origin "--set KEY" instead of a mark;
 *   4. validate the tree against static const schema tables, one per YAML
 *      mapping (key, type, field offset, bounds, default, required).
 *      Defaults are written as YAML text and pass through the same
 *      converters as user input (integer defaults skip the bounds so they
 *      can be sentinels such as region x = -1); rules that span fields (a region must fit
 *      the fabric, an input has a file or a generator) are per-table check
 *      hooks; free-form mappings (params, inputs) are per-field hooks.
 *
 * Drawbacks.  The file is held twice (bytes, then tree); fine at 1 MiB.
 * Quoting is ignored when converting: "5" and 5 are the same integer and
 * 'yes' is a boolean; no field needs quoting to force a string.  Only the
 * first error is reported.  UTF-16/32 files are refused as binary.
 * Duplicate keys are found during validation, so a duplicate under an
 * unknown key is reported as the unknown key.  Numbers go through strtod,
 * so a program that changes LC_NUMERIC changes what parses.  An input
 * file given by --set is still relative to the job file, not to the
 * current directory.
 */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>
#include "limits_int.h"
#include "wse/config.h"

/* ---------------------------------------------------------------- tree */

enum cfg_kind { CFG_SCALAR, CFG_MAP, CFG_SEQ };

typedef struct cfg_node {
    int kind;                 /* enum cfg_kind */
    int line, column;         /* 1-based; 0 for nodes made by --set */
    char *origin;             /* NULL: the file; else "--set KEY" (owned) */
    char *text;               /* scalars: the value (owned) */
    struct cfg_node **kids;   /* sequence items, or key, value, key, ... */
    size_t n, cap;
} cfg_node;

/* What a validation pass needs to name the input and resolve paths. */
typedef struct cfg_ctx {
    const char *path;         /* the file, for messages */
    const char *dir;          /* job directory for input files, or NULL */
    wse_error *err;
} cfg_ctx;

#define CFG_MSG_MAX 1024      /* = sizeof wse_error.msg */
#define CFG_WHERE_MAX 192     /* dotted key path, e.g. "inputs.u0.seed" */
#define CFG_MAX_FIELDS 16     /* keys per schema table */
#define CFG_MAX_CANDS 64      /* names listed in a "valid names" hint */

static void node_free(cfg_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        node_free(n->kids[i]);
    free(n->kids);
    free(n->text);
    free(n->origin);
    free(n);
}

static cfg_node *node_new(int kind, int line, int column, const char *origin)
{
    cfg_node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->kind = kind;
    n->line = line;
    n->column = column;
    if (origin && !(n->origin = strdup(origin))) {
        free(n);
        return NULL;
    }
    return n;
}

/* Append kid to n; on failure the caller still owns kid. */
static int node_add(cfg_node *n, cfg_node *kid)
{
    if (n->n == n->cap) {
        size_t cap = n->cap ? 2 * n->cap : 8;
        cfg_node **k = realloc(n->kids, cap * sizeof *k);
        if (!k)
            return WSE_ENOMEM;
        n->kids = k;
        n->cap = cap;
    }
    n->kids[n->n++] = kid;
    return 0;
}

/* Index of the value for key in mapping m (first occurrence), or -1. */
static long map_index(const cfg_node *m, const char *key)
{
    if (!m || m->kind != CFG_MAP)
        return -1;
    for (size_t i = 0; i + 1 < m->n; i += 2)
        if (strcmp(m->kids[i]->text, key) == 0)
            return (long)i + 1;
    return -1;
}

static cfg_node *map_get(const cfg_node *m, const char *key)
{
    long i = map_index(m, key);
    return i < 0 ? NULL : m->kids[i];
}

static const char *kind_desc(const cfg_node *n)
{
    if (n->kind == CFG_MAP)
        return "a mapping";
    if (n->kind == CFG_SEQ)
        return "a sequence";
    return n->text[0] ? "a scalar" : "an empty value";
}

/* ---------------------------------------------------------------- errors */

static int vfail(wse_error *err, int code, const char *file, int line,
                 int column, const char *fmt, va_list ap)
{
    char msg[CFG_MSG_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    return wse_error_set(err, code, file, line, column, "%s", msg);
}

/* An error at node at (or at the file when at is NULL). */
__attribute__((format(printf, 3, 4)))
static int cfg_fail(const cfg_ctx *c, const cfg_node *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *file = at && at->origin ? at->origin : c->path;
    int rc = vfail(c->err, WSE_ECONFIG, file, at ? at->line : 0,
                   at ? at->column : 0, fmt, ap);
    va_end(ap);
    return rc;
}

/* An error at an explicit place in the file being read. */
__attribute__((format(printf, 4, 5)))
static int cfg_fail_at(const cfg_ctx *c, int line, int column,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(c->err, WSE_ECONFIG, c->path, line, column, fmt, ap);
    va_end(ap);
    return rc;
}

static int cfg_nomem(const cfg_ctx *c)
{
    return wse_error_set(c->err, WSE_ENOMEM, c->path, 0, 0, "out of memory");
}

/* Optimal string alignment distance, capped for long words (no hint). */
static int edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n >= WSE_NAME_MAX || m >= WSE_NAME_MAX)
        return 99;
    int d[WSE_NAME_MAX][WSE_NAME_MAX];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[n][m];
}

/* Append to buf at len without ever pointing past its end. */
__attribute__((format(printf, 4, 5)))
static size_t append(char *buf, size_t n, size_t len, const char *fmt, ...)
{
    if (len >= n)
        return len;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + len, n - len, fmt, ap);
    va_end(ap);
    return k < 0 ? len : len + (size_t)k;
}

/*
 * Write " (did you mean 'X'?)" when a candidate is within edit distance 2
 * of word; list all candidates as "valid LABEL: a, b" when none is close,
 * or always when list is set.
 */
static void hint(char *buf, size_t n, const char *word,
                 const char *const *cands, int n_cands, const char *label,
                 int list)
{
    int best = -1, best_d = 3;
    for (int i = 0; i < n_cands; i++) {
        int d = edit_distance(word, cands[i]);
        if (d < best_d) {
            best_d = d;
            best = i;
        }
    }
    size_t len = 0;
    buf[0] = '\0';
    if (best >= 0)
        len = append(buf, n, len, " (did you mean '%s'?", cands[best]);
    if (best < 0 || list) {
        len = append(buf, n, len, "%svalid %s:", best >= 0 ? " " : " (", label);
        for (int i = 0; i < n_cands; i++)
            len = append(buf, n, len, "%s %s", i ? "," : "", cands[i]);
    }
    append(buf, n, len, ")");
}

/* ---------------------------------------------------------------- scalars */

/* Plain decimal integer: [+-]digits. */
static int int_syntax(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    if (!isdigit((unsigned char)*s))
        return 0;
    while (isdigit((unsigned char)*s))
        s++;
    return *s == '\0';
}

/* Decimal float with optional exponent: 850e6, 8.5e8, .5, 1. */
static int dbl_syntax(const char *s)
{
    int digits = 0;
    if (*s == '+' || *s == '-')
        s++;
    for (; isdigit((unsigned char)*s); s++)
        digits++;
    if (*s == '.')
        for (s++; isdigit((unsigned char)*s); s++)
            digits++;
    if (!digits)
        return 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!isdigit((unsigned char)*s))
            return 0;
        while (isdigit((unsigned char)*s))
            s++;
    }
    return *s == '\0';
}

enum { PARSE_OK = 0, PARSE_SYNTAX = -1, PARSE_RANGE = -2, PARSE_NEG = -3 };

static int parse_i64(const char *s, int64_t *v)
{
    if (!int_syntax(s))
        return PARSE_SYNTAX;
    errno = 0;
    long long x = strtoll(s, NULL, 10);
    if (errno == ERANGE)
        return PARSE_RANGE;
    *v = (int64_t)x;
    return PARSE_OK;
}

/* strtoull accepts "-1" and wraps it, so the sign is checked first. */
static int parse_u64(const char *s, uint64_t *v)
{
    if (!int_syntax(s))
        return PARSE_SYNTAX;
    if (s[0] == '-') {
        int64_t neg;
        return parse_i64(s, &neg) == PARSE_RANGE ? PARSE_RANGE : PARSE_NEG;
    }
    errno = 0;
    unsigned long long x = strtoull(s, NULL, 10);
    if (errno == ERANGE)
        return PARSE_RANGE;
    *v = (uint64_t)x;
    return PARSE_OK;
}

/* strtod alone would also take "inf", "nan" and hex floats. */
static int parse_dbl(const char *s, double *v)
{
    if (!dbl_syntax(s))
        return PARSE_SYNTAX;
    errno = 0;
    double x = strtod(s, NULL);
    if (errno == ERANGE || !isfinite(x))
        return PARSE_RANGE;
    *v = x;
    return PARSE_OK;
}

static int parse_bool(const char *s, int *v)
{
    static const char *const yes[] = { "true", "yes", "on" };
    static const char *const no[] = { "false", "no", "off" };
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
            *v = strcasecmp(s, yes[i]) == 0;
            return PARSE_OK;
        }
    }
    return PARSE_SYNTAX;
}

/* Bounds print as written in the tables: 4096 and 16777216, but 1e+12. */
static const char *num_str(char *buf, size_t n, double x)
{
    if (x == floor(x) && fabs(x) <= 1e9)
        snprintf(buf, n, "%.0f", x);
    else
        snprintf(buf, n, "%g", x);
    return buf;
}

/* ---------------------------------------------------------------- reading */

/* Read all of c->path into a NUL-terminated buffer. */
static int read_file(const cfg_ctx *c, char **out, size_t *len)
{
    FILE *f = fopen(c->path, "rb");
    if (!f)
        return wse_error_set(c->err, WSE_EIO, c->path, 0, 0, "cannot open file: %s", strerror(errno));
    char *buf = malloc((size_t)WSE_CONFIG_MAX_BYTES + 2);
    if (!buf) {
        fclose(f);
        return cfg_nomem(c);
    }
    size_t n = fread(buf, 1, (size_t)WSE_CONFIG_MAX_BYTES + 1, f);
    int bad = ferror(f) ? errno : 0;
    fclose(f);
    if (bad) {
        free(buf);
        return wse_error_set(c->err, WSE_EIO, c->path, 0, 0, "cannot read file: %s", strerror(bad));
    }
    if (n > (size_t)WSE_CONFIG_MAX_BYTES) {
        free(buf);
        return cfg_fail(c, NULL, "file is larger than %d bytes", WSE_CONFIG_MAX_BYTES);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* 1-based line and column (in characters) of byte offset off. */
static void mark_at(const char *buf, size_t off, int *line, int *column)
{
    *line = 1;
    *column = 1;
    for (size_t i = 0; i < off; i++) {
        if (buf[i] == '\n') {
            ++*line;
            *column = 1;
        } else if (((unsigned char)buf[i] & 0xC0) != 0x80) {
            ++*column;
        }
    }
}

/* Length of the valid UTF-8 sequence at s (len bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t len)
{
    size_t need;
    uint32_t cp, min;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        need = 1, cp = s[0] & 0x1Fu, min = 0x80;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        need = 2, cp = s[0] & 0x0Fu, min = 0x800;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        need = 3, cp = s[0] & 0x07u, min = 0x10000;
    else
        return 0;
    if (len <= need)
        return 0;
    for (size_t k = 1; k <= need; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return need + 1;
}

/* Refuse binary input: a NUL byte or anything that is not UTF-8. */
static int check_text(const cfg_ctx *c, const char *buf, size_t len)
{
    const unsigned char *s = (const unsigned char *)buf;
    size_t i = 0, step = 1;
    while (i < len && s[i] != 0 && (step = utf8_len(s + i, len - i)) != 0)
        i += step;
    if (i == len)
        return 0;
    int line, column;
    mark_at(buf, i, &line, &column);
    if (s[i] == 0)
        return cfg_fail_at(c, line, column, "file is not text: NUL byte (is this a binary file?)");
    return cfg_fail_at(c, line, column, "file is not text: invalid UTF-8 byte 0x%02x (is this a binary file?)", s[i]);
}

/* ---------------------------------------------------------------- parsing */

typedef struct cfg_builder {
    const cfg_ctx *c;
    cfg_node *root;
    cfg_node *stack[WSE_CONFIG_MAX_DEPTH];
    int depth;                /* open collections */
    int docs;                 /* documents completed */
} cfg_builder;

static int syntax_fail(const cfg_ctx *c, const yaml_parser_t *p,
                       const char *buf, size_t len)
{
    int line, column;
    if (p->error == YAML_MEMORY_ERROR)
        return cfg_nomem(c);
    if (p->error == YAML_READER_ERROR) {
        mark_at(buf, p->problem_offset < len ? p->problem_offset : len, &line, &column);
    } else {
        line = (int)p->problem_mark.line + 1;
        column = (int)p->problem_mark.column + 1;
    }
    const char *problem = p->problem ? p->problem : "unknown problem";
    if (!p->context)
        return cfg_fail_at(c, line, column, "YAML syntax error: %s", problem);
    return cfg_fail_at(c, line, column, "YAML syntax error: %s (%s at line %d, column %d)", problem, p->context, (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
}

/* Anchors are refused even without an alias: they only exist to be used. */
static int check_props(const cfg_builder *b, const yaml_char_t *anchor,
                       const yaml_char_t *tag, int line, int column)
{
    if (anchor)
        return cfg_fail_at(b->c, line, column, "YAML anchors and aliases are not supported");
    if (tag)
        return cfg_fail_at(b->c, line, column, "YAML tags are not supported ('%.60s')", (const char *)tag);
    return 0;
}

/* Hang n under the open collection (or make it the root); frees n on error. */
static int build_attach(cfg_builder *b, cfg_node *n)
{
    if (b->depth == 0) {
        b->root = n;
        return 0;
    }
    cfg_node *p = b->stack[b->depth - 1];
    if (p->kind == CFG_MAP && p->n % 2 == 0 && n->kind != CFG_SCALAR) {
        int line = n->line, column = n->column;
        node_free(n);
        return cfg_fail_at(b->c, line, column, "mapping keys must be scalars");
    }
    if (node_add(p, n) != 0) {
        node_free(n);
        return cfg_nomem(b->c);
    }
    return 0;
}

static int build_scalar(cfg_builder *b, const yaml_event_t *ev, int line,
                        int column)
{
    int rc = check_props(b, ev->data.scalar.anchor, ev->data.scalar.tag, line, column);
    if (rc)
        return rc;
    size_t len = ev->data.scalar.length;
    if (memchr(ev->data.scalar.value, 0, len))
        return cfg_fail_at(b->c, line, column, "NUL characters are not allowed in values");
    cfg_node *n = node_new(CFG_SCALAR, line, column, NULL);
    if (!n || !(n->text = malloc(len + 1))) {
        node_free(n);
        return cfg_nomem(b->c);
    }
    memcpy(n->text, ev->data.scalar.value, len);
    n->text[len] = '\0';
    return build_attach(b, n);
}

static int build_open(cfg_builder *b, int kind, const yaml_char_t *anchor,
                      const yaml_char_t *tag, int line, int column)
{
    int rc = check_props(b, anchor, tag, line, column);
    if (rc)
        return rc;
    if (b->depth == WSE_CONFIG_MAX_DEPTH)
        return cfg_fail_at(b->c, line, column, "nesting is deeper than %d levels", WSE_CONFIG_MAX_DEPTH);
    cfg_node *n = node_new(kind, line, column, NULL);
    if (!n)
        return cfg_nomem(b->c);
    if ((rc = build_attach(b, n)) != 0)
        return rc;
    b->stack[b->depth++] = n;
    return 0;
}

static int build_event(cfg_builder *b, const yaml_event_t *ev)
{
    int line = (int)ev->start_mark.line + 1;
    int column = (int)ev->start_mark.column + 1;
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (b->docs > 0)
            return cfg_fail_at(b->c, line, column, "multiple YAML documents are not supported");
        return 0;
    case YAML_DOCUMENT_END_EVENT:
        b->docs++;
        return 0;
    case YAML_ALIAS_EVENT:
        return cfg_fail_at(b->c, line, column, "YAML anchors and aliases are not supported");
    case YAML_SCALAR_EVENT:
        return build_scalar(b, ev, line, column);
    case YAML_SEQUENCE_START_EVENT:
        return build_open(b, CFG_SEQ, ev->data.sequence_start.anchor, ev->data.sequence_start.tag, line, column);
    case YAML_MAPPING_START_EVENT:
        return build_open(b, CFG_MAP, ev->data.mapping_start.anchor, ev->data.mapping_start.tag, line, column);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        b->depth--;
        return 0;
    default:
        return 0;
    }
}

/* Parse buf into a tree; *root is NULL when the stream holds no document. */
static int tree_parse(const cfg_ctx *c, const char *buf, size_t len,
                      cfg_node **root)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return cfg_nomem(c);
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    cfg_builder b = { .c = c };
    int rc = 0, done = 0;
    while (rc == 0 && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            rc = syntax_fail(c, &p, buf, len);
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        rc = build_event(&b, &ev);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    if (rc != 0) {
        node_free(b.root);
        return rc;
    }
    *root = b.root;
    return 0;
}

/* Read, check and parse c->path; the root is always a mapping on success. */
static int load_tree(const cfg_ctx *c, cfg_node **root)
{
    char *buf = NULL;
    size_t len = 0;
    *root = NULL;
    int rc = read_file(c, &buf, &len);
    if (rc == 0)
        rc = check_text(c, buf, len);
    if (rc == 0)
        rc = tree_parse(c, buf, len, root);
    free(buf);
    if (rc != 0)
        return rc;
    if (!*root)
        return cfg_fail(c, NULL, "file is empty (no YAML document)");
    if ((*root)->kind != CFG_MAP) {
        rc = cfg_fail(c, *root, "top level must be a mapping of keys, got %s", kind_desc(*root));
        node_free(*root);
        *root = NULL;
    }
    return rc;
}

/* ---------------------------------------------------------------- schemas */

enum cfg_type {
    T_STR,   /* char[max + 1], non-empty */
    T_INT,   /* int */
    T_U32,   /* uint32_t */
    T_I64,   /* int64_t */
    T_U64,   /* uint64_t, whole range (bounds unused) */
    T_DBL,   /* double, finite */
    T_BOOL,  /* int 0/1 */
    T_ENUM,  /* int, index into names */
    T_MAP,   /* nested mapping validated by sub, same obj */
    T_HOOK   /* anything else: hook does the work */
};

typedef struct cfg_schema cfg_schema;

typedef int (*cfg_hook)(const cfg_ctx *c, const cfg_node *key,
                        const cfg_node *val, void *obj, const char *where);
typedef int (*cfg_check)(const cfg_ctx *c, const cfg_node *map, void *obj);

typedef struct cfg_field {
    const char *key;
    int type;                 /* enum cfg_type */
    size_t offset;            /* into obj */
    double min, max;          /* numbers: inclusive; T_STR: max length */
    const char *def;          /* default as YAML text; NULL: none */
    int required;
    const cfg_schema *sub;    /* T_MAP */
    const char *const *names; /* T_ENUM: NULL-terminated, value = index */
    cfg_hook hook;            /* T_HOOK */
    const char *why;          /* appended to range errors */
} cfg_field;

struct cfg_schema {
    const cfg_field *fields;
    int n_fields;
    cfg_check check;          /* cross-field rules, after all fields */
};

#define NFIELDS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* validate_map tracks seen keys in a fixed array: check each table fits. */
#define SCHEMA(name, fields, check_fn)                                     \
    _Static_assert(NFIELDS(fields) <= CFG_MAX_FIELDS, "too many keys");   \
    static const cfg_schema name = { fields, NFIELDS(fields), check_fn }

static void path_join(char *buf, const char *where, const char *key)
{
    if (where[0])
        snprintf(buf, CFG_WHERE_MAX, "%s.%.63s", where, key);
    else
        snprintf(buf, CFG_WHERE_MAX, "%.63s", key);
}

static void put(void *obj, size_t off, const void *val, size_t size)
{
    memcpy((char *)obj + off, val, size);
}

static const char *type_desc(const cfg_field *f)
{
    switch (f->type) {
    case T_STR: return "a string";
    case T_INT: case T_U32: case T_I64: case T_U64: return "an integer";
    case T_DBL: return "a number";
    case T_BOOL: return "a boolean";
    case T_ENUM: return "a name";
    case T_MAP: return "a mapping";
    default: return "a value";
    }
}

static int set_str(const cfg_ctx *c, const cfg_field *f, const char *text,
                   const cfg_node *at, void *obj, const char *path)
{
    size_t len = strlen(text), max = (size_t)f->max;
    if (len == 0)
        return cfg_fail(c, at, "%s must not be empty", path);
    if (len > max)
        return cfg_fail(c, at, "%s is too long (%zu characters, at most %zu)", path, len, max);
    put(obj, f->offset, text, len + 1);
    return 0;
}

static int int_range_fail(const cfg_ctx *c, const cfg_field *f,
                          const cfg_node *at, const char *path, int64_t v)
{
    char lo[32], hi[32];
    return cfg_fail(c, at, "%s = %lld is out of range (allowed %s..%s)%s%s", path, (long long)v, num_str(lo, sizeof lo, f->min), num_str(hi, sizeof hi, f->max), f->why ? ": " : "", f->why ? f->why : "");
}

static void store_int(const cfg_field *f, int64_t v, void *obj);

static int set_int(const cfg_ctx *c, const cfg_field *f, const char *text,
                   const cfg_node *at, void *obj, const char *path)
{
    int64_t v;
    int rc = parse_i64(text, &v);
    if (rc == PARSE_SYNTAX)
        return cfg_fail(c, at, "%s must be an integer, got '%.80s'", path, text);
    if (rc == PARSE_RANGE)
        return cfg_fail(c, at, "%s = %.80s overflows a 64-bit integer", path, text);
    if ((double)v < f->min || (double)v > f->max)
        return int_range_fail(c, f, at, path, v);
    store_int(f, v, obj);
    return 0;
}

static void store_int(const cfg_field *f, int64_t v, void *obj)
{
    if (f->type == T_INT) {
        int x = (int)v;
        put(obj, f->offset, &x, sizeof x);
    } else if (f->type == T_U32) {
        uint32_t x = (uint32_t)v;
        put(obj, f->offset, &x, sizeof x);
    } else {
        put(obj, f->offset, &v, sizeof v);
    }
}

static int set_u64(const cfg_ctx *c, const cfg_field *f, const char *text,
                   const cfg_node *at, void *obj, const char *path)
{
    uint64_t v;
    int rc = parse_u64(text, &v);
    if (rc == PARSE_SYNTAX)
        return cfg_fail(c, at, "%s must be an integer, got '%.80s'", path, text);
    if (rc == PARSE_RANGE)
        return cfg_fail(c, at, "%s = %.80s overflows a 64-bit integer", path, text);
    if (rc == PARSE_NEG)
        return cfg_fail(c, at, "%s = %.80s is out of range (allowed 0..%llu)", path, text, (unsigned long long)UINT64_MAX);
    put(obj, f->offset, &v, sizeof v);
    return 0;
}

static int set_dbl(const cfg_ctx *c, const cfg_field *f, const char *text,
                   const cfg_node *at, void *obj, const char *path)
{
    double v;
    int rc = parse_dbl(text, &v);
    if (rc == PARSE_SYNTAX)
        return cfg_fail(c, at, "%s must be a number, got '%.80s'", path, text);
    if (rc == PARSE_RANGE)
        return cfg_fail(c, at, "%s = %.80s is out of range for a double", path, text);
    if (v < f->min || v > f->max) {
        char lo[32], hi[32];
        return cfg_fail(c, at, "%s = %g is out of range (allowed %s..%s)", path, v, num_str(lo, sizeof lo, f->min), num_str(hi, sizeof hi, f->max));
    }
    put(obj, f->offset, &v, sizeof v);
    return 0;
}

static int set_bool(const cfg_ctx *c, const cfg_field *f, const char *text,
                    const cfg_node *at, void *obj, const char *path)
{
    int v;
    if (parse_bool(text, &v) != PARSE_OK)
        return cfg_fail(c, at, "%s must be a boolean (true/false, yes/no, on/off), got '%.80s'", path, text);
    put(obj, f->offset, &v, sizeof v);
    return 0;
}

static int set_enum(const cfg_ctx *c, const cfg_field *f, const char *text,
                    const cfg_node *at, void *obj, const char *path)
{
    int n = 0;
    for (; f->names[n]; n++) {
        if (strcmp(text, f->names[n]) == 0) {
            put(obj, f->offset, &n, sizeof n);
            return 0;
        }
    }
    char h[512];
    hint(h, sizeof h, text, f->names, n, "values", 1);
    return cfg_fail(c, at, "invalid value '%.80s' for %s%s", text, path, h);
}

/* Convert scalar text into field f; at is where errors point. */
static int set_scalar(const cfg_ctx *c, const cfg_field *f, const char *text,
                      const cfg_node *at, void *obj, const char *path)
{
    switch (f->type) {
    case T_STR: return set_str(c, f, text, at, obj, path);
    case T_INT: case T_U32: case T_I64: return set_int(c, f, text, at, obj, path);
    case T_U64: return set_u64(c, f, text, at, obj, path);
    case T_DBL: return set_dbl(c, f, text, at, obj, path);
    case T_BOOL: return set_bool(c, f, text, at, obj, path);
    default: return set_enum(c, f, text, at, obj, path);
    }
}

static int validate_map(const cfg_ctx *c, const cfg_node *map,
                        const cfg_schema *s, void *obj, const char *where);

static int set_field(const cfg_ctx *c, const cfg_field *f,
                     const cfg_node *key, const cfg_node *val, void *obj,
                     const char *where)
{
    char path[CFG_WHERE_MAX];
    path_join(path, where, f->key);
    if (f->type == T_MAP)
        return validate_map(c, val, f->sub, obj, path);
    if (f->type == T_HOOK)
        return f->hook(c, key, val, obj, path);
    if (val->kind != CFG_SCALAR)
        return cfg_fail(c, val, "%s must be %s, got %s", path, type_desc(f), kind_desc(val));
    return set_scalar(c, f, val->text, val, obj, path);
}

/*
 * Store f's default.  Integer defaults skip the bounds: some are sentinels
 * outside them (region x = -1 means "from the topology").  The others go
 * through the normal converter and cannot fail (the tables are tested).
 */
static void set_default(const cfg_ctx *c, const cfg_field *f,
                        const cfg_node *at, void *obj, const char *path)
{
    int64_t v;
    if (!f->def)
        return;
    if ((f->type == T_INT || f->type == T_U32 || f->type == T_I64) &&
        parse_i64(f->def, &v) == PARSE_OK)
        store_int(f, v, obj);
    else
        set_scalar(c, f, f->def, at, obj, path);
}

/* Defaults of an absent optional section: required keys are not asked for. */
static void apply_defaults(const cfg_ctx *c, const cfg_schema *s, void *obj,
                           const cfg_node *at, const char *where)
{
    for (int i = 0; i < s->n_fields; i++) {
        const cfg_field *f = &s->fields[i];
        char path[CFG_WHERE_MAX];
        path_join(path, where, f->key);
        if (f->type == T_MAP)
            apply_defaults(c, f->sub, obj, at, path);
        else
            set_default(c, f, at, obj, path);
    }
}

static int fill_absent(const cfg_ctx *c, const cfg_node *map,
                       const cfg_schema *s, void *obj, const char *where,
                       const cfg_node *const *seen)
{
    for (int i = 0; i < s->n_fields; i++) {
        const cfg_field *f = &s->fields[i];
        if (seen[i])
            continue;
        if (f->required)
            return cfg_fail(c, map, "missing required key '%s'%s%s%s", f->key, where[0] ? " in '" : "", where, where[0] ? "'" : "");
        char path[CFG_WHERE_MAX];
        path_join(path, where, f->key);
        if (f->type == T_MAP)
            apply_defaults(c, f->sub, obj, map, path);
        else
            set_default(c, f, map, obj, path);
    }
    return 0;
}

static int unknown_key(const cfg_ctx *c, const cfg_node *key,
                       const cfg_schema *s, const char *where)
{
    const char *cands[CFG_MAX_FIELDS];
    for (int i = 0; i < s->n_fields; i++)
        cands[i] = s->fields[i].key;
    char h[512];
    hint(h, sizeof h, key->text, cands, s->n_fields, "keys", 0);
    return cfg_fail(c, key, "unknown key '%.63s'%s%s%s%s", key->text, where[0] ? " in '" : "", where, where[0] ? "'" : "", h);
}

static int duplicate_key(const cfg_ctx *c, const cfg_node *key,
                         const cfg_node *first, const char *where)
{
    return cfg_fail(c, key, "duplicate key '%.63s'%s%s%s (first at line %d, column %d)", key->text, where[0] ? " in '" : "", where, where[0] ? "'" : "", first->line, first->column);
}

static int validate_map(const cfg_ctx *c, const cfg_node *map,
                        const cfg_schema *s, void *obj, const char *where)
{
    if (map->kind != CFG_MAP)
        return cfg_fail(c, map, "%s must be a mapping, got %s", where, kind_desc(map));
    const cfg_node *seen[CFG_MAX_FIELDS] = { 0 };
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        const cfg_node *key = map->kids[i];
        int k = 0;
        while (k < s->n_fields && strcmp(s->fields[k].key, key->text) != 0)
            k++;
        if (k == s->n_fields)
            return unknown_key(c, key, s, where);
        if (seen[k])
            return duplicate_key(c, key, seen[k], where);
        seen[k] = key;
        int rc = set_field(c, &s->fields[k], key, map->kids[i + 1], obj, where);
        if (rc)
            return rc;
    }
    int rc = fill_absent(c, map, s, obj, where, seen);
    if (rc == 0 && s->check)
        rc = s->check(c, map, obj);
    return rc;
}

/* ---------------------------------------------------------------- topology */

#define REQ 1
#define OPT 0
#define TOFF(m) offsetof(wse_topology, m)
#define FIELD(k, t, off, lo, hi, d, req) \
    { .key = (k), .type = (t), .offset = (off), .min = (lo), .max = (hi), \
      .def = (d), .required = (req) }
#define SECTION(k, s, req) { .key = (k), .type = T_MAP, .sub = &(s), .required = (req) }

static const cfg_field fabric_fields[] = {
    FIELD("width", T_INT, TOFF(width), 1, 4096, NULL, REQ),
    FIELD("height", T_INT, TOFF(height), 1, 4096, NULL, REQ),
};
SCHEMA(fabric_schema, fabric_fields, NULL);

/* Absent program_region means the whole fabric: see topo_check. */
static const cfg_field prog_fields[] = {
    FIELD("x", T_INT, TOFF(prog_x), 0, 4095, "0", OPT),
    FIELD("y", T_INT, TOFF(prog_y), 0, 4095, "0", OPT),
    FIELD("width", T_INT, TOFF(prog_width), 1, 4096, NULL, REQ),
    FIELD("height", T_INT, TOFF(prog_height), 1, 4096, NULL, REQ),
};
SCHEMA(prog_schema, prog_fields, NULL);

static const cfg_field pe_fields[] = {
    FIELD("sram_bytes", T_U32, TOFF(sram_bytes), 1024, 16777216, NULL, REQ),
    FIELD("reserved_bytes", T_U32, TOFF(reserved_bytes), 0, 16777216, "0", OPT),
    FIELD("sram_read_bytes_per_cycle", T_INT, TOFF(sram_read_bytes_per_cycle), 1, 4096, "16", OPT),
    FIELD("sram_write_bytes_per_cycle", T_INT, TOFF(sram_write_bytes_per_cycle), 1, 4096, "8", OPT),
};
SCHEMA(pe_schema, pe_fields, NULL);

static const cfg_field router_fields[] = {
    FIELD("colors", T_INT, TOFF(colors), 1, WSE_LIMIT_COLORS, NULL, REQ),
    FIELD("queue_depth", T_INT, TOFF(queue_depth), 1, WSE_MAX_QUEUE_DEPTH, NULL, REQ),
    FIELD("hop_latency_cycles", T_INT, TOFF(hop_latency_cycles), 1, WSE_MAX_HOP_LATENCY, NULL, REQ),
    { .key = "link_wavelets_per_cycle", .type = T_INT,
      .offset = TOFF(link_wavelets_per_cycle), .min = 1, .max = 1, .def = "1",
      .why = "the fabric model moves one wavelet per link per cycle" },
};
SCHEMA(router_schema, router_fields, NULL);

static const cfg_field compute_fields[] = {
    FIELD("clock_hz", T_DBL, TOFF(clock_hz), 1e3, 1e12, NULL, REQ),
    FIELD("task_switch_cycles", T_INT, TOFF(task_switch_cycles), 0, 1000000, "2", OPT),
    FIELD("vector_startup_cycles", T_INT, TOFF(vector_startup_cycles), 0, 1000000, "2", OPT),
    FIELD("simd_fp32", T_INT, TOFF(simd_fp32), 1, 64, "1", OPT),
    FIELD("simd_fp16", T_INT, TOFF(simd_fp16), 1, 64, "4", OPT),
    FIELD("fabric_startup_cycles", T_INT, TOFF(fabric_startup_cycles), 0, 1000000, "2", OPT),
    FIELD("fabric_datapath_cycles", T_INT, TOFF(fabric_datapath_cycles), 0, 16, "1", OPT),
};
SCHEMA(compute_schema, compute_fields, NULL);

static const cfg_field energy_fields[] = {
    FIELD("calibrated", T_BOOL, TOFF(energy_calibrated), 0, 1, "false", OPT),
    FIELD("pj_per_flop", T_DBL, TOFF(pj_per_flop), 0, 1e9, "0", OPT),
    FIELD("pj_per_hop", T_DBL, TOFF(pj_per_hop), 0, 1e9, "0", OPT),
    FIELD("pj_per_sram_byte", T_DBL, TOFF(pj_per_sram_byte), 0, 1e9, "0", OPT),
    FIELD("pj_per_idle_pe_cycle", T_DBL, TOFF(pj_per_idle_pe_cycle), 0, 1e9, "0", OPT),
};
SCHEMA(energy_schema, energy_fields, NULL);

/* The thermal model (docs/MODEL.md, "Power and heat").  The defaults are
 * wse2.yaml's: a PE area from WSE-2's 46,225 mm^2 over ~850,000 PEs, silicon
 * near operating temperature, a standard 775 um wafer, and assumed TIM and
 * water-cooling figures. */
/* thermal.throttle: present means the rule is on (throttle_check). */
static int throttle_check(const cfg_ctx *c, const cfg_node *map, void *obj)
{
    wse_topology *t = obj;
    t->throttle = 1;
    if (t->throttle_resume_c > t->throttle_above_c)
        return cfg_fail(c, map_get(map, "resume_below_c"), "thermal.throttle.resume_below_c = %g must not be above above_c = %g", t->throttle_resume_c, t->throttle_above_c);
    return 0;
}

static const cfg_field throttle_fields[] = {
    FIELD("above_c", T_DBL, TOFF(throttle_above_c), -273.15, 1000, NULL, REQ),
    FIELD("resume_below_c", T_DBL, TOFF(throttle_resume_c), -273.15, 1000, NULL, REQ),
    FIELD("rate_percent", T_INT, TOFF(throttle_rate_percent), 1, 99, NULL, REQ),
};
SCHEMA(throttle_schema, throttle_fields, throttle_check);

static const cfg_field thermal_fields[] = {
    FIELD("cell_width_pes", T_INT, TOFF(thermal_cell_width), 1, 4096, "8", OPT),
    FIELD("cell_height_pes", T_INT, TOFF(thermal_cell_height), 1, 4096, "8", OPT),
    FIELD("pe_width_mm", T_DBL, TOFF(pe_width_mm), 1e-4, 100, "0.2675", OPT),
    FIELD("pe_height_mm", T_DBL, TOFF(pe_height_mm), 1e-4, 100, "0.2033", OPT),
    FIELD("si_conductivity_w_mk", T_DBL, TOFF(si_conductivity), 1e-3, 1e4, "130", OPT),
    FIELD("die_thickness_mm", T_DBL, TOFF(die_thickness_mm), 1e-4, 100, "0.775", OPT),
    FIELD("tim_conductance_w_m2k", T_DBL, TOFF(tim_conductance), 1e-3, 1e12, "1.0e5", OPT),
    FIELD("heat_transfer_w_m2k", T_DBL, TOFF(heat_transfer), 1e-3, 1e12, "1.0e4", OPT),
    FIELD("coolant_c", T_DBL, TOFF(coolant_c), -273.15, 1000, "25", OPT),
    FIELD("si_density_kg_m3", T_DBL, TOFF(si_density), 1, 1e5, "2330", OPT),
    FIELD("si_specific_heat_j_kgk", T_DBL, TOFF(si_specific_heat), 1, 1e5, "705", OPT),
    { .key = "throttle", .type = T_MAP, .sub = &throttle_schema, .required = OPT },
};
SCHEMA(thermal_schema, thermal_fields, NULL);

/* Hardware resources; -1 means "the arch's figure" (arch_defaults). */
static const cfg_field resource_fields[] = {
    FIELD("input_queues", T_INT, TOFF(input_queues), 1, 32, "-1", OPT),
    FIELD("output_queues", T_INT, TOFF(output_queues), 1, 32, "-1", OPT),
    FIELD("microthreads", T_INT, TOFF(microthreads), 1, 32, "-1", OPT),
    FIELD("host_io_queues", T_INT, TOFF(host_io_queues), 0, 31, "-1", OPT),
    FIELD("host_io_microthreads", T_INT, TOFF(host_io_microthreads), 0, 31, "-1", OPT),
    FIELD("host_io_first_color", T_INT, TOFF(host_io_first_color), 1, WSE_LIMIT_COLORS, "-1", OPT),
    FIELD("local_task_min", T_INT, TOFF(local_task_min), 0, WSE_MAX_TASKS - 1, "-1", OPT),
    FIELD("local_task_max", T_INT, TOFF(local_task_max), 0, WSE_MAX_TASKS - 1, "-1", OPT),
    FIELD("host_io_first_task", T_INT, TOFF(host_io_first_task), 0, WSE_MAX_TASKS, "-1", OPT),
    FIELD("implicit_queues", T_BOOL, TOFF(implicit_queues), 0, 1, "false", OPT),
};
SCHEMA(resource_schema, resource_fields, NULL);

/* Defects and spare PEs (docs/MODEL.md, "Defects and spare PEs").  Without
 * the section the wafer is perfect and a job may not name defects. */
static const char *const scheme_names[] = { "none", "column_shift", "row_shift", "row_retire", NULL };
static const cfg_field yield_fields[] = {
    { .key = "scheme", .type = T_ENUM, .offset = TOFF(yield_scheme), .names = scheme_names,
      .def = "column_shift" },
    FIELD("die_width_pes", T_INT, TOFF(die_width), 1, 4096, NULL, REQ),
    FIELD("die_height_pes", T_INT, TOFF(die_height), 1, 4096, NULL, REQ),
    FIELD("spare_rows_per_die", T_INT, TOFF(spare_rows), 0, 64, "1", OPT),
    FIELD("spare_cols_per_die", T_INT, TOFF(spare_cols), 0, 64, "0", OPT),
    FIELD("bypass_cycles_per_pe", T_INT, TOFF(bypass_cycles_per_pe), 0, 8, "1", OPT),
    FIELD("pe_area_mm2", T_DBL, TOFF(pe_area_mm2), 1e-6, 1e4, "0.0544", OPT),
};
SCHEMA(yield_schema, yield_fields, NULL);

/* The spares a scheme uses must be there, and only those. */
static int yield_check(const cfg_ctx *c, const cfg_node *map, wse_topology *t)
{
    const cfg_node *y = map_get(map, "yield");
    if (!y) {
        t->yield_scheme = WSE_REPAIR_NONE;
        t->die_width = t->die_height = t->spare_rows = t->spare_cols = 0;
        return 0;
    }
    if (t->die_width > t->width || t->die_height > t->height)
        return cfg_fail(c, y, "yield: a %dx%d die is larger than the %dx%d fabric", t->die_width, t->die_height, t->width, t->height);
    int rows = t->yield_scheme == WSE_REPAIR_COLUMN_SHIFT || t->yield_scheme == WSE_REPAIR_ROW_RETIRE;
    if (t->yield_scheme == WSE_REPAIR_NONE && (t->spare_rows || t->spare_cols))
        return cfg_fail(c, y, "yield: scheme 'none' uses no spares: set spare_rows_per_die and spare_cols_per_die to 0");
    if (rows && t->spare_cols)
        return cfg_fail(c, y, "yield: scheme '%s' uses spare rows, not spare_cols_per_die = %d", scheme_names[t->yield_scheme], t->spare_cols);
    if (t->yield_scheme == WSE_REPAIR_ROW_SHIFT && t->spare_rows)
        return cfg_fail(c, y, "yield: scheme 'row_shift' uses spare columns, not spare_rows_per_die = %d", t->spare_rows);
    return 0;
}

static const char *const arch_names[] = { "wse2", "wse3", NULL };

/*
 * What each architecture gives a PE program (docs/MODEL.md, "Hardware
 * resources"): queues, microthreads and task ids, and what host I/O keeps
 * of them.  Indexed by enum wse_arch, in resource_fields order.
 */
static const int arch_resources[2][9] = {
    /* IQ OQ  MT hq hmt hcolor lmin lmax htask */
    {  8,  6,  8, 2,  2,  21,    0,  30,  27 },   /* wse2 */
    {  8,  8,  8, 2,  2,  21,    8,  30,  27 },   /* wse3 */
};

/* Set the resource fields that are < 0 (or all, with all) to arch's. */
static void arch_fill(wse_topology *t, int all)
{
    int *v[9] = { &t->input_queues, &t->output_queues, &t->microthreads,
                  &t->host_io_queues, &t->host_io_microthreads, &t->host_io_first_color,
                  &t->local_task_min, &t->local_task_max, &t->host_io_first_task };
    for (int i = 0; i < 9; i++)
        if (all || *v[i] < 0)
            *v[i] = arch_resources[t->arch][i];
    if (t->host_io_first_color > t->colors)   /* a fabric with few colors: none */
        t->host_io_first_color = t->colors;
}

void wse_topology_set_arch(wse_topology *t, int arch)
{
    t->arch = arch == WSE_ARCH_WSE3 ? WSE_ARCH_WSE3 : WSE_ARCH_WSE2;
    arch_fill(t, 1);
}

static int arch_defaults(const cfg_ctx *c, const cfg_node *map, wse_topology *t)
{
    arch_fill(t, 0);
    const cfg_node *r = map_get(map, "resources");
    const cfg_node *at = r ? r : map;
    if (t->host_io_queues >= t->input_queues || t->host_io_queues >= t->output_queues)
        return cfg_fail(c, at, "resources.host_io_queues = %d leaves the program no input or output queue (%d in, %d out)", t->host_io_queues, t->input_queues, t->output_queues);
    if (t->host_io_microthreads >= t->microthreads)
        return cfg_fail(c, at, "resources.host_io_microthreads = %d leaves the program none of the %d microthreads", t->host_io_microthreads, t->microthreads);
    if (t->local_task_min > t->local_task_max)
        return cfg_fail(c, at, "resources.local_task_min = %d is above local_task_max = %d", t->local_task_min, t->local_task_max);
    if (t->host_io_first_task <= t->local_task_min || t->host_io_first_task > t->local_task_max + 1)
        return cfg_fail(c, at, "resources.host_io_first_task = %d must be in %d..%d (host I/O keeps the top of the local task ids)", t->host_io_first_task, t->local_task_min + 1, t->local_task_max + 1);
    return 0;
}

/* Rules between sections: reserved SRAM, program rectangle, resources. */
static int topo_check(const cfg_ctx *c, const cfg_node *map, void *obj)
{
    wse_topology *t = obj;
    int rc = arch_defaults(c, map, t);
    if (!rc)
        rc = yield_check(c, map, t);
    if (rc)
        return rc;
    if (t->reserved_bytes >= t->sram_bytes)
        return cfg_fail(c, map_get(map_get(map, "pe"), "reserved_bytes"), "pe.reserved_bytes = %lu must be less than pe.sram_bytes = %lu", (unsigned long)t->reserved_bytes, (unsigned long)t->sram_bytes);
    const cfg_node *pr = map_get(map, "program_region");
    if (!pr) {
        t->prog_x = t->prog_y = 0;
        t->prog_width = t->width;
        t->prog_height = t->height;
        return 0;
    }
    if (t->prog_x + t->prog_width > t->width || t->prog_y + t->prog_height > t->height)
        return cfg_fail(c, pr, "program_region %dx%d at (%d,%d) does not fit the %dx%d fabric", t->prog_width, t->prog_height, t->prog_x, t->prog_y, t->width, t->height);
    return 0;
}

static const cfg_field topo_fields[] = {
    FIELD("name", T_STR, TOFF(name), 0, WSE_NAME_MAX - 1, NULL, REQ),
    { .key = "arch", .type = T_ENUM, .offset = TOFF(arch), .names = arch_names, .def = "wse2" },
    SECTION("fabric", fabric_schema, REQ),
    SECTION("program_region", prog_schema, OPT),
    SECTION("pe", pe_schema, REQ),
    SECTION("router", router_schema, REQ),
    SECTION("compute", compute_schema, REQ),
    SECTION("energy", energy_schema, OPT),
    SECTION("resources", resource_schema, OPT),
    SECTION("thermal", thermal_schema, OPT),
    SECTION("yield", yield_schema, OPT),
};
SCHEMA(topo_schema, topo_fields, topo_check);

int wse_topology_load(const char *path, wse_topology *out, wse_error *err)
{
    if (!path || !out)
        return wse_error_set(err, WSE_EINVAL, NULL, 0, 0, "wse_topology_load: NULL argument");
    wse_topology t;
    memset(&t, 0, sizeof t);
    if (strlen(path) >= sizeof t.path)
        return wse_error_set(err, WSE_EINVAL, NULL, 0, 0, "topology path is too long (at most %d characters)", WSE_PATH_MAX - 1);
    strcpy(t.path, path);
    cfg_ctx c = { .path = path, .dir = NULL, .err = err };
    cfg_node *root = NULL;
    int rc = load_tree(&c, &root);
    if (rc == 0)
        rc = validate_map(&c, root, &topo_schema, &t, "");
    node_free(root);
    if (rc == 0)
        *out = t;
    return rc;
}

/* A path contains '/' or ends in ".yaml"; anything else is a name. */
static int is_path(const char *s)
{
    size_t n = strlen(s);
    return strchr(s, '/') != NULL || (n >= 5 && strcmp(s + n - 5, ".yaml") == 0);
}

#ifdef WSE_TOPOLOGY_DIR
#define CFG_TOPO_DIR WSE_TOPOLOGY_DIR
#else
#define CFG_TOPO_DIR "topologies"
#endif
#ifndef WSE_TOPOLOGY_REL
#define WSE_TOPOLOGY_REL "../share/wsemu/topologies"
#endif

/*
 * The directory of named topologies, in this order: $WSEMU_TOPOLOGY_DIR
 * when set and not empty; the installed one, found from the running
 * program's own file (/proc/self/exe, then WSE_TOPOLOGY_REL from its
 * directory: PREFIX/bin/wsemu -> PREFIX/share/wsemu/topologies), when that
 * is a directory, so an installed tree can be moved; else the source
 * tree's (CFG_TOPO_DIR, which is what the build tree's programs find).
 */
static const char *topology_dir(char *buf, size_t n)
{
    const char *env = getenv("WSEMU_TOPOLOGY_DIR");
    if (env && env[0])
        return env;
    ssize_t len = readlink("/proc/self/exe", buf, n - 1);
    if (len > 0 && (size_t)len < n - 1) {
        buf[len] = '\0';
        char *slash = strrchr(buf, '/');
        struct stat st;
        if (slash && (size_t)(slash + 1 - buf) + sizeof WSE_TOPOLOGY_REL <= n) {
            strcpy(slash + 1, WSE_TOPOLOGY_REL);
            if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
                return buf;
        }
    }
    return CFG_TOPO_DIR;
}

int wse_topology_resolve(const char *name_or_path, const char *base_dir,
                         const char *topo_dir, char *buf, size_t n,
                         wse_error *err)
{
    if (!name_or_path || !buf || n == 0)
        return wse_error_set(err, WSE_EINVAL, NULL, 0, 0, "wse_topology_resolve: NULL argument");
    if (!name_or_path[0])
        return wse_error_set(err, WSE_EINVAL, NULL, 0, 0, "empty topology name");
    int len;
    const char *s = name_or_path;
    char dir[WSE_PATH_MAX];
    if (!is_path(s))
        len = snprintf(buf, n, "%s/%s.yaml", topo_dir ? topo_dir : topology_dir(dir, sizeof dir), s);
    else if (s[0] != '/' && base_dir && base_dir[0] && strcmp(base_dir, ".") != 0)
        len = snprintf(buf, n, "%s/%s", base_dir, s);
    else
        len = snprintf(buf, n, "%s", s);
    if (len < 0 || (size_t)len >= n) {
        buf[0] = '\0';
        return wse_error_set(err, WSE_EINVAL, NULL, 0, 0, "path for topology '%.63s' is too long (at most %zu characters)", s, n - 1);
    }
    return 0;
}

/* ---------------------------------------------------------------- job */

#define JOFF(m) offsetof(wse_job, m)
#define IOFF(m) offsetof(wse_input, m)

static const char *const mode_names[] = { "exact", "relaxed", NULL };
static const char *const thermal_start_names[] = { "coolant", "steady", NULL };
static const char *const gen_names[] = {
    "random", "zeros", "ones", "index", "spike", NULL
};

/* Where a free-form entry was written: its value if --set made it. */
static void entry_mark(const cfg_ctx *c, const cfg_node *key,
                       const cfg_node *val, char *file, int *line, int *column)
{
    const cfg_node *at = val->origin ? val : key;
    snprintf(file, WSE_PATH_MAX, "%s", at->origin ? at->origin : c->path);
    *line = at->line;
    *column = at->column;
}

/* Shared checks for the keys of params/inputs and the items of outputs. */
static int check_name(const cfg_ctx *c, const cfg_node *at, const char *what,
                      const char *where, int count, int max)
{
    if (at->kind != CFG_SCALAR)
        return cfg_fail(c, at, "%s entries must be names, got %s", where, kind_desc(at));
    if (!at->text[0])
        return cfg_fail(c, at, "%s name in %s must not be empty", what, where);
    if (strlen(at->text) >= WSE_NAME_MAX)
        return cfg_fail(c, at, "%s name '%.63s...' in %s is too long (at most %d characters)", what, at->text, where, WSE_NAME_MAX - 1);
    if (count >= max)
        return cfg_fail(c, at, "too many entries in %s (at most %d)", where, max);
    return 0;
}

static int params_hook(const cfg_ctx *c, const cfg_node *key,
                       const cfg_node *val, void *obj, const char *where)
{
    (void)key;
    wse_job *j = obj;
    if (val->kind != CFG_MAP)
        return cfg_fail(c, val, "%s must be a mapping, got %s", where, kind_desc(val));
    for (size_t i = 0; i + 1 < val->n; i += 2) {
        const cfg_node *k = val->kids[i], *v = val->kids[i + 1];
        int rc = check_name(c, k, "parameter", where, j->n_params, WSE_MAX_PARAMS);
        if (rc)
            return rc;
        for (int p = 0; p < j->n_params; p++)
            if (strcmp(j->params[p].key, k->text) == 0)
                return duplicate_key(c, k, val->kids[2 * (size_t)p], where);
        if (v->kind != CFG_SCALAR)
            return cfg_fail(c, v, "%s.%s must be a scalar, got %s", where, k->text, kind_desc(v));
        wse_raw_value *r = &j->params[j->n_params];
        if (strlen(v->text) >= sizeof r->text)
            return cfg_fail(c, v, "%s.%s is too long (at most %zu characters)", where, k->text, sizeof r->text - 1);
        strcpy(r->key, k->text);
        strcpy(r->text, v->text);
        entry_mark(c, k, v, r->file, &r->line, &r->column);
        j->n_params++;
    }
    return 0;
}

/* Exactly one source; a file path is made relative to the job file. */
static int input_check(const cfg_ctx *c, const cfg_node *map, void *obj)
{
    wse_input *in = obj;
    const cfg_node *file = map_get(map, "file");
    if ((file != NULL) == (map_get(map, "generate") != NULL))
        return cfg_fail(c, map, "input '%s' needs exactly one of 'file' or 'generate'", in->name);
    in->kind = file ? WSE_INPUT_FILE : WSE_INPUT_GENERATE;
    if (!file || in->path[0] == '/' || !c->dir)
        return 0;
    char full[WSE_PATH_MAX];
    int len = snprintf(full, sizeof full, "%s/%s", c->dir, in->path);
    if (len < 0 || (size_t)len >= sizeof full)
        return cfg_fail(c, file, "path of input '%s' is too long (at most %d characters)", in->name, WSE_PATH_MAX - 1);
    memcpy(in->path, full, (size_t)len + 1);
    return 0;
}

static const cfg_field input_fields[] = {
    FIELD("file", T_STR, IOFF(path), 0, WSE_PATH_MAX - 1, NULL, OPT),
    { .key = "generate", .type = T_ENUM, .offset = IOFF(generator),
      .names = gen_names },
    FIELD("seed", T_U64, IOFF(seed), 0, 0, "1", OPT),
    FIELD("lo", T_DBL, IOFF(lo), -DBL_MAX, DBL_MAX, "0", OPT),
    FIELD("hi", T_DBL, IOFF(hi), -DBL_MAX, DBL_MAX, "1", OPT),
};
SCHEMA(input_schema, input_fields, input_check);

static int inputs_hook(const cfg_ctx *c, const cfg_node *key,
                       const cfg_node *val, void *obj, const char *where)
{
    (void)key;
    wse_job *j = obj;
    if (val->kind != CFG_MAP)
        return cfg_fail(c, val, "%s must be a mapping, got %s", where, kind_desc(val));
    for (size_t i = 0; i + 1 < val->n; i += 2) {
        const cfg_node *k = val->kids[i], *v = val->kids[i + 1];
        int rc = check_name(c, k, "input", where, j->n_inputs, WSE_MAX_ARRAYS);
        if (rc)
            return rc;
        for (int p = 0; p < j->n_inputs; p++)
            if (strcmp(j->inputs[p].name, k->text) == 0)
                return duplicate_key(c, k, val->kids[2 * (size_t)p], where);
        wse_input *in = &j->inputs[j->n_inputs];
        strcpy(in->name, k->text);
        entry_mark(c, k, v, in->file, &in->line, &in->column);
        char path[CFG_WHERE_MAX];
        path_join(path, where, k->text);
        if ((rc = validate_map(c, v, &input_schema, in, path)) != 0)
            return rc;
        j->n_inputs++;
    }
    return 0;
}

static int add_output(const cfg_ctx *c, wse_job *j, const cfg_node *item,
                      const char *where)
{
    int rc = check_name(c, item, "output", where, j->n_outputs, WSE_MAX_ARRAYS);
    if (rc)
        return rc;
    for (int p = 0; p < j->n_outputs; p++)
        if (strcmp(j->outputs[p], item->text) == 0)
            return cfg_fail(c, item, "output '%s' is listed twice in %s", item->text, where);
    strcpy(j->outputs[j->n_outputs++], item->text);
    return 0;
}

/* A scalar from --set ("outputs=u") stands for a one-element list. */
static int outputs_hook(const cfg_ctx *c, const cfg_node *key,
                        const cfg_node *val, void *obj, const char *where)
{
    (void)key;
    wse_job *j = obj;
    if (val->kind == CFG_SCALAR && val->origin)
        return add_output(c, j, val, where);
    if (val->kind != CFG_SEQ)
        return cfg_fail(c, val, "%s must be a sequence of names, got %s", where, kind_desc(val));
    for (size_t i = 0; i < val->n; i++) {
        int rc = add_output(c, j, val->kids[i], where);
        if (rc)
            return rc;
    }
    return 0;
}

/* Remember where region was written: wse_job_check_region reports there. */
static int job_check(const cfg_ctx *c, const cfg_node *map, void *obj)
{
    wse_job *j = obj;
    if (j->power_window_cycles > 0 && j->power_window_cycles < WSE_POWER_WINDOW_MIN)
        return cfg_fail(c, map_get(map, "power_window_cycles"), "power_window_cycles = %lld is too short: 0 (no power windows) or at least %d cycles (each window ends in a collective step)", (long long)j->power_window_cycles, WSE_POWER_WINDOW_MIN);
    long i = map_index(map, "region");
    if (i < 0)
        return 0;
    const cfg_node *key = map->kids[i - 1];
    j->region_set = 1;
    snprintf(j->region_mark.key, sizeof j->region_mark.key, "region");
    snprintf(j->region_mark.file, sizeof j->region_mark.file, "%s", key->origin ? key->origin : c->path);
    j->region_mark.line = key->line;
    j->region_mark.column = key->column;
    return 0;
}

/* Defaults -1 (x, y) and 0 (width, height) mean "from the topology". */
static const cfg_field region_fields[] = {
    FIELD("x", T_INT, JOFF(region_x), 0, 4095, "-1", OPT),
    FIELD("y", T_INT, JOFF(region_y), 0, 4095, "-1", OPT),
    FIELD("width", T_INT, JOFF(region_width), 1, 4096, "0", OPT),
    FIELD("height", T_INT, JOFF(region_height), 1, 4096, "0", OPT),
};
SCHEMA(region_schema, region_fields, NULL);

/* A defect map: exactly one of a file (relative to the job file) or a
 * generator's density. */
static const char *const unrepairable_names[] = { "fail", "shrink", NULL };
static int defects_check(const cfg_ctx *c, const cfg_node *map, void *obj)
{
    wse_defect_spec *d = &((wse_job *)obj)->defects;
    const cfg_node *file = map_get(map, "file"), *gen = map_get(map, "d0_per_mm2");
    if ((file != NULL) == (gen != NULL))
        return cfg_fail(c, map, "defects needs exactly one of 'file' (a defect map) or 'd0_per_mm2' (a generator)");
    if (file && (map_get(map, "alpha") || map_get(map, "seed") || map_get(map, "pe_area_mm2")))
        return cfg_fail(c, map, "defects: alpha, seed and pe_area_mm2 are for the generator, not a file");
    d->kind = file ? WSE_DEFECTS_FILE : WSE_DEFECTS_GENERATE;
    snprintf(d->file, sizeof d->file, "%s", map->origin ? map->origin : c->path);
    d->line = map->line;
    d->column = map->column;
    if (!file || d->path[0] == '/' || !c->dir)
        return 0;
    char full[WSE_PATH_MAX];
    int len = snprintf(full, sizeof full, "%s/%s", c->dir, d->path);
    if (len < 0 || (size_t)len >= sizeof full)
        return cfg_fail(c, file, "path of the defect map is too long (at most %d characters)", WSE_PATH_MAX - 1);
    memcpy(d->path, full, (size_t)len + 1);
    return 0;
}

static const cfg_field defects_fields[] = {
    FIELD("file", T_STR, JOFF(defects.path), 0, WSE_PATH_MAX - 1, NULL, OPT),
    FIELD("d0_per_mm2", T_DBL, JOFF(defects.d0_per_mm2), 0, 1e3, "0", OPT),
    FIELD("alpha", T_DBL, JOFF(defects.alpha), 1e-6, 1e9, NULL, OPT),
    FIELD("seed", T_U64, JOFF(defects.seed), 0, 0, "1", OPT),
    FIELD("pe_area_mm2", T_DBL, JOFF(defects.pe_area_mm2), 1e-6, 1e4, NULL, OPT),
    { .key = "on_unrepairable", .type = T_ENUM, .offset = JOFF(defects.shrink),
      .names = unrepairable_names, .def = "fail" },
};
SCHEMA(defects_schema, defects_fields, defects_check);

static const cfg_field job_fields[] = {
    FIELD("topology", T_STR, JOFF(topology), 0, WSE_PATH_MAX - 1, NULL, REQ),
    FIELD("program", T_STR, JOFF(program), 0, WSE_NAME_MAX - 1, NULL, REQ),
    SECTION("region", region_schema, OPT),
    { .key = "params", .type = T_HOOK, .hook = params_hook },
    { .key = "inputs", .type = T_HOOK, .hook = inputs_hook },
    { .key = "outputs", .type = T_HOOK, .hook = outputs_hook },
    { .key = "mode", .type = T_ENUM, .offset = JOFF(mode), .names = mode_names,
      .def = "exact" },
    FIELD("window_cycles", T_I64, JOFF(window_cycles), 0, 1e9, "0", OPT),
    FIELD("verify", T_BOOL, JOFF(verify), 0, 1, "false", OPT),
    FIELD("max_cycles", T_I64, JOFF(max_cycles), 1, 1e15, "1000000000000", OPT),
    SECTION("defects", defects_schema, OPT),
    /* power over time (docs/MODEL.md, "Power and heat"); job_check
     * refuses windows shorter than WSE_POWER_WINDOW_MIN */
    FIELD("power_window_cycles", T_I64, JOFF(power_window_cycles), 0, 1e12, "0", OPT),
    { .key = "thermal_start", .type = T_ENUM, .offset = JOFF(thermal_start),
      .names = thermal_start_names, .def = "coolant" },
    FIELD("throttle", T_BOOL, JOFF(throttle), 0, 1, "true", OPT),
};
SCHEMA(job_schema, job_fields, job_check);

/* ---------------------------------------------------------------- --set */

static int set_fail(const cfg_ctx *c, const char *origin, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int set_fail(const cfg_ctx *c, const char *origin, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(c->err, WSE_ECONFIG, origin, 0, 0, fmt, ap);
    va_end(ap);
    return rc;
}

/* Append key: val to map, both marked with origin; frees val on failure. */
static int add_entry(const cfg_ctx *c, cfg_node *map, const char *key,
                     cfg_node *val, const char *origin)
{
    cfg_node *k = node_new(CFG_SCALAR, 0, 0, origin);
    if (!k || !val || !(k->text = strdup(key)) || node_add(map, k) != 0) {
        node_free(k);
        node_free(val);
        return cfg_nomem(c);
    }
    if (node_add(map, val) != 0) {
        map->n--;                         /* keep key, value pairs even */
        node_free(k);
        node_free(val);
        return cfg_nomem(c);
    }
    return 0;
}

/* Step into mapping key of *cur, creating it when absent. */
static int set_descend(const cfg_ctx *c, cfg_node **cur, const char *key,
                       const char *origin)
{
    cfg_node *v = map_get(*cur, key);
    if (v) {
        if (v->kind != CFG_MAP)
            return set_fail(c, origin, "'%s' is %s, not a mapping", key, kind_desc(v));
        *cur = v;
        return 0;
    }
    cfg_node *m = node_new(CFG_MAP, 0, 0, origin);
    int rc = add_entry(c, *cur, key, m, origin);
    if (rc == 0)
        *cur = m;
    return rc;
}

/* Set key of map to the scalar value, replacing what was there. */
static int set_leaf(const cfg_ctx *c, cfg_node *map, const char *key,
                    const char *value, const char *origin)
{
    cfg_node *s = node_new(CFG_SCALAR, 0, 0, origin);
    if (!s || !(s->text = strdup(value))) {
        node_free(s);
        return cfg_nomem(c);
    }
    long i = map_index(map, key);
    if (i < 0)
        return add_entry(c, map, key, s, origin);
    node_free(map->kids[i]);
    map->kids[i] = s;
    return 0;
}

/* Apply one "key.path=value" to the tree rooted at mapping root. */
static int set_apply(const cfg_ctx *c, cfg_node *root, const char *set)
{
    const char *eq = strchr(set, '=');
    if (!eq || eq == set)
        return set_fail(c, "--set", "malformed override '%.80s' (expected KEY.PATH=VALUE)", set);
    char key[WSE_PATH_MAX - 8], origin[WSE_PATH_MAX];
    size_t klen = (size_t)(eq - set);
    if (klen >= sizeof key)
        return set_fail(c, "--set", "override key is too long (at most %zu characters)", sizeof key - 1);
    memcpy(key, set, klen);
    key[klen] = '\0';
    snprintf(origin, sizeof origin, "--set %s", key);
    if (key[0] == '.' || key[klen - 1] == '.' || strstr(key, ".."))
        return set_fail(c, origin, "malformed override key '%s' (empty component)", key);
    cfg_node *cur = root;
    char *comp = key;
    for (int depth = 1;; depth++) {
        char *dot = strchr(comp, '.');
        if (!dot)
            return set_leaf(c, cur, comp, eq + 1, origin);
        if (depth >= WSE_CONFIG_MAX_DEPTH)
            return set_fail(c, origin, "override key nests deeper than %d levels", WSE_CONFIG_MAX_DEPTH);
        *dot = '\0';
        int rc = set_descend(c, &cur, comp, origin);
        if (rc)
            return rc;
        comp = dot + 1;
    }
}

/* ---------------------------------------------------------------- job API */

static void dir_of(const char *path, char *dir, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, n, ".");
    else if (slash == path)
        snprintf(dir, n, "/");
    else
        snprintf(dir, n, "%.*s", (int)(slash - path), path);
}

static int job_parse(const cfg_ctx *c, const char *const *sets, int n_sets,
                     wse_job *j)
{
    cfg_node *root = NULL;
    int rc = load_tree(c, &root);
    for (int i = 0; rc == 0 && i < n_sets; i++)
        rc = set_apply(c, root, sets[i]);
    if (rc == 0)
        rc = validate_map(c, root, &job_schema, j, "");
    node_free(root);
    return rc;
}

int wse_job_load(const char *path, const char *const *sets, int n_sets,
                 wse_job *out, wse_error *err)
{
    if (!path || !out || n_sets < 0 || (n_sets > 0 && !sets))
        return wse_error_set(err, WSE_EINVAL, NULL, 0, 0, "wse_job_load: invalid argument");
    if (n_sets > WSE_MAX_SETS)
        return wse_error_set(err, WSE_EINVAL, "--set", 0, 0, "too many overrides (%d, at most %d)", n_sets, WSE_MAX_SETS);
    if (strlen(path) >= WSE_PATH_MAX)
        return wse_error_set(err, WSE_EINVAL, NULL, 0, 0, "job path is too long (at most %d characters)", WSE_PATH_MAX - 1);
    wse_job *j = calloc(1, sizeof *j);   /* ~40 KiB: keep it off the stack */
    if (!j)
        return wse_error_set(err, WSE_ENOMEM, path, 0, 0, "out of memory");
    strcpy(j->path, path);
    dir_of(path, j->dir, sizeof j->dir);
    cfg_ctx c = { .path = path, .dir = j->dir, .err = err };
    int rc = job_parse(&c, sets, n_sets, j);
    if (rc == 0)
        *out = *j;
    free(j);
    return rc;
}

int wse_job_check_region(wse_job *job, const wse_topology *topo,
                         wse_error *err)
{
    if (!job || !topo)
        return wse_error_set(err, WSE_EINVAL, NULL, 0, 0, "wse_job_check_region: NULL argument");
    if (!job->region_set || job->region_x < 0)
        job->region_x = topo->prog_x;
    if (!job->region_set || job->region_y < 0)
        job->region_y = topo->prog_y;
    if (!job->region_set || job->region_width <= 0)
        job->region_width = topo->prog_width;
    if (!job->region_set || job->region_height <= 0)
        job->region_height = topo->prog_height;
    long x = job->region_x, y = job->region_y;
    if (x + job->region_width <= topo->width && y + job->region_height <= topo->height)
        return 0;
    const wse_raw_value *m = &job->region_mark;
    return wse_error_set(err, WSE_ECONFIG, m->file[0] ? m->file : job->path, m->line, m->column, "region %dx%d at (%d,%d) does not fit the %dx%d fabric of topology '%s'", job->region_width, job->region_height, job->region_x, job->region_y, topo->width, topo->height, topo->name);
}

/* ---------------------------------------------------------------- params */

static void param_store(const wse_param_spec *s, double v, void *out)
{
    if (s->type == WSE_PARAM_FLOAT) {
        memcpy((char *)out + s->offset, &v, sizeof v);
    } else {
        int64_t i = (int64_t)v;
        memcpy((char *)out + s->offset, &i, sizeof i);
    }
}

static int param_fail(const wse_raw_value *r, wse_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int param_fail(const wse_raw_value *r, wse_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(err, WSE_ECONFIG, r->file, r->line, r->column, fmt, ap);
    va_end(ap);
    return rc;
}

static int param_unknown(const wse_raw_value *r, const wse_param_spec *spec,
                         int n_spec, wse_error *err)
{
    if (n_spec == 0)
        return param_fail(r, err, "unknown parameter '%s' (this program takes no parameters)", r->key);
    const char *cands[CFG_MAX_CANDS];
    int n = n_spec < CFG_MAX_CANDS ? n_spec : CFG_MAX_CANDS;
    for (int i = 0; i < n; i++)
        cands[i] = spec[i].name;
    char h[CFG_MSG_MAX / 2];
    hint(h, sizeof h, r->key, cands, n, "names", 1);
    return param_fail(r, err, "unknown parameter '%s'%s", r->key, h);
}

/* Parse r as s->type into *v (INT exact as int64, BOOL as 0/1). */
static int param_parse(const wse_param_spec *s, const wse_raw_value *r,
                       double *v, int64_t *iv, wse_error *err)
{
    int b, rc;
    switch (s->type) {
    case WSE_PARAM_INT:
        rc = parse_i64(r->text, iv);
        if (rc == PARSE_SYNTAX)
            return param_fail(r, err, "parameter '%s' must be an integer, got '%s'", r->key, r->text);
        if (rc == PARSE_RANGE)
            return param_fail(r, err, "parameter '%s' = %s overflows a 64-bit integer", r->key, r->text);
        *v = (double)*iv;
        return 0;
    case WSE_PARAM_BOOL:
        if (parse_bool(r->text, &b) != PARSE_OK)
            return param_fail(r, err, "parameter '%s' must be a boolean (true/false), got '%s'", r->key, r->text);
        *v = b;
        *iv = b;
        return 0;
    default:
        rc = parse_dbl(r->text, v);
        if (rc == PARSE_SYNTAX)
            return param_fail(r, err, "parameter '%s' must be a number, got '%s'", r->key, r->text);
        if (rc == PARSE_RANGE)
            return param_fail(r, err, "parameter '%s' = %s is out of range for a double", r->key, r->text);
        return 0;
    }
}

static int param_bind_one(const wse_param_spec *s, const wse_raw_value *r,
                          void *out, wse_error *err)
{
    double v = 0;
    int64_t iv = 0;
    int rc = param_parse(s, r, &v, &iv, err);
    if (rc)
        return rc;
    if (s->type != WSE_PARAM_BOOL && (v < s->min || v > s->max)) {
        char lo[32], hi[32];
        return param_fail(r, err, "parameter '%s' = %s is out of range (allowed %s..%s)", r->key, r->text, num_str(lo, sizeof lo, s->min), num_str(hi, sizeof hi, s->max));
    }
    if (s->type == WSE_PARAM_FLOAT)
        memcpy((char *)out + s->offset, &v, sizeof v);
    else
        memcpy((char *)out + s->offset, &iv, sizeof iv);
    return 0;
}

int wse_params_bind(const wse_job *job, const wse_param_spec *spec,
                    int n_spec, void *out, wse_error *err)
{
    if (!job || !out || n_spec < 0 || (n_spec > 0 && !spec))
        return wse_error_set(err, WSE_EINVAL, NULL, 0, 0, "wse_params_bind: invalid argument");
    for (int i = 0; i < n_spec; i++)
        param_store(&spec[i], spec[i].def, out);
    for (int p = 0; p < job->n_params; p++) {
        const wse_raw_value *r = &job->params[p];
        int i = 0;
        while (i < n_spec && strcmp(spec[i].name, r->key) != 0)
            i++;
        int rc = i == n_spec ? param_unknown(r, spec, n_spec, err)
                             : param_bind_one(&spec[i], r, out, err);
        if (rc)
            return rc;
    }
    return 0;
}
