/*
 * src/main.c - the wsemu command: arguments, MPI, printing, exit status.
 *
 * Exit status: 0 success; 1 the run failed (deadlock, routing error,
 * verification failure, I/O); 2 bad input (usage, job, topology, params,
 * SRAM budget).  Only rank 0 prints; every rank exits with the same
 * status after agreeing on it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <unistd.h>
#include <mpi.h>
#include "wse/io.h"
#include "wse/programs.h"
#include "wse/run.h"
#include "wse/shard.h"

#ifndef WSE_VERSION
#define WSE_VERSION "unknown"
#endif

static const char usage[] =
    "usage: wsemu run JOB.yaml [options]    run a job\n"
    "       wsemu check JOB.yaml [options]  validate a job and its topology without running\n"
    "       wsemu programs [--program-lib FILE.so]  list the programs and their parameters\n"
    "       wsemu COMMAND --help | wsemu --help | wsemu --version\n";

static const char options_help[] =
    "\n"
    "options (--opt VALUE or --opt=VALUE):\n"
    "  --topology NAME|FILE   use this topology instead of the job's\n"
    "  --set KEY.PATH=VALUE   override a job key, e.g. --set params.steps=50 (repeatable)\n"
    "  --out DIR              write DIR/report.json and each output array as DIR/NAME.npy\n"
    "  --grid PxQ             cut the region into P x Q rank shards (default: shortest cuts)\n"
    "  --program-lib FILE.so  load programs built outside wsemu (repeatable; see README)\n"
    "  --threads N            worker threads (shard rows) per rank (default: the cores hwloc gives\n"
    "                         the rank, at most one per 64 Ki PEs of its shard)\n"
    "  --json                 print the report (check: the job's plan) as JSON on stdout,\n"
    "                         instead of the summary; also with --quiet\n"
    "  --quiet                print nothing on success (no progress either)\n"
    "  --progress SECONDS     progress on stderr this often (default 10)\n"
    "  -h, --help             this help\n"
    "\n"
    "Exit status: 0 success, 1 the run failed, 2 bad input.\n"
    "Named topologies are looked up in $WSEMU_TOPOLOGY_DIR, else the built-in directory.\n";

/* What each command does, for `wsemu COMMAND --help`. */
static const char *command_help(const char *cmd)
{
    if (!strcmp(cmd, "run"))
        return "wsemu run JOB.yaml [options]: run a job, print its summary (or JSON) and, with\n"
               "--out, write its outputs and report.json.  Under mpirun every rank emulates a\n"
               "shard of the region; progress goes to stderr every 10 s.\n";
    if (!strcmp(cmd, "check"))
        return "wsemu check JOB.yaml [options]: load and validate the job, its topology and its\n"
               "program's setup on every PE, and run nothing.\n";
    return "wsemu programs [--program-lib FILE.so]: list the built-in programs (and those of\n"
           "the libraries) with their parameters and arrays.\n";
}

#define MAX_LIBS 8
#define MAX_USER_PROGRAMS 64

typedef struct cli {
    const char *cmd;
    wse_run_options opt;
    const char *sets[WSE_MAX_SETS];
    const char *libs[MAX_LIBS];
    int n_libs;
    void *handles[MAX_LIBS];
    const wse_program *programs[MAX_USER_PROGRAMS];
    int json, quiet;
} cli;

static int usage_error(int rank, const char *fmt, const char *arg)
{
    if (rank == 0) {
        fprintf(stderr, "wsemu: ");
        fprintf(stderr, fmt, arg);
        fprintf(stderr, "\nTry 'wsemu --help'.\n");
    }
    return 2;
}

/* A whole decimal number in 1..max, or -1. */
static long whole(const char *v, long max)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    return errno || end == v || *end || n < 1 || n > max ? -1 : n;
}

/* --grid PxQ, each 1..4096. */
static int parse_grid(const char *v, int *px, int *py)
{
    char buf[64];
    const char *x = strchr(v, 'x');
    if (!x || (size_t)(x - v) >= sizeof buf)
        return -1;
    memcpy(buf, v, (size_t)(x - v));
    buf[x - v] = 0;
    long p = whole(buf, 4096), q = whole(x + 1, 4096);
    if (p < 0 || q < 0)
        return -1;
    *px = (int)p;
    *py = (int)q;
    return 0;
}

/* Parse argv into c.  Returns -1 to go on, else an exit status. */
static int parse(int argc, char **argv, cli *c, int rank)
{
    if (argc < 2)
        return usage_error(rank, "%s", "missing command");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        if (rank == 0)
            printf("%s%s", usage, options_help);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        if (rank == 0)
            printf("wsemu %s\n", WSE_VERSION);
        return 0;
    }
    c->cmd = argv[1];
    if (strcmp(c->cmd, "run") && strcmp(c->cmd, "check") && strcmp(c->cmd, "programs"))
        return usage_error(rank, "unknown command '%s'", c->cmd);
    enum { O_TOPOLOGY = 256, O_SET, O_OUT, O_GRID, O_LIB, O_THREADS, O_JSON, O_QUIET, O_PROGRESS };
    static const struct option longs[] = {
        { "topology", required_argument, NULL, O_TOPOLOGY }, { "set", required_argument, NULL, O_SET },
        { "out", required_argument, NULL, O_OUT }, { "grid", required_argument, NULL, O_GRID },
        { "program-lib", required_argument, NULL, O_LIB },
        { "threads", required_argument, NULL, O_THREADS }, { "json", no_argument, NULL, O_JSON },
        { "quiet", no_argument, NULL, O_QUIET }, { "help", no_argument, NULL, 'h' },
        { "progress", required_argument, NULL, O_PROGRESS },
        { NULL, 0, NULL, 0 },
    };
    opterr = 0;                 /* our messages, from rank 0 only */
    optind = 2;
    int o;
    while ((o = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
        const char *v = optarg;
        switch (o) {
        case 'h':
            if (rank == 0)
                printf("%s%s", command_help(c->cmd), options_help);
            return 0;
        case O_TOPOLOGY: c->opt.topology = v; break;
        case O_OUT: c->opt.out_dir = v; break;
        case O_SET:
            if (c->opt.n_sets == WSE_MAX_SETS)
                return usage_error(rank, "%s", "too many --set options");
            c->sets[c->opt.n_sets++] = v;
            break;
        case O_LIB:
            if (c->n_libs == MAX_LIBS)
                return usage_error(rank, "%s", "too many --program-lib options");
            c->libs[c->n_libs++] = v;
            break;
        case O_GRID:
            if (parse_grid(v, &c->opt.grid_px, &c->opt.grid_py))
                return usage_error(rank, "--grid wants PxQ with P, Q in 1..4096, not '%s'", v);
            break;
        case O_THREADS: {
            long n = whole(v, 1024);
            if (n < 0)
                return usage_error(rank, "--threads wants a number 1..1024, not '%s'", v);
            c->opt.threads = (int)n;
            break;
        }
        case O_PROGRESS: {
            char *end;
            errno = 0;
            double sec = strtod(v, &end);
            if (errno || end == v || *end || !(sec >= 0.001 && sec <= 1e6))
                return usage_error(rank, "--progress wants seconds in 0.001..1e6, not '%s'", v);
            c->opt.progress_seconds = sec;
            break;
        }
        case O_JSON: c->json = 1; break;
        case O_QUIET: c->quiet = 1; break;
        case ':':
            return usage_error(rank, "option %s needs a value", argv[optind - 1]);
        case '?':
            if (optopt >= O_TOPOLOGY)       /* --json=x, --quiet=x */
                return usage_error(rank, "option '%s' takes no value", argv[optind - 1]);
            return usage_error(rank, "unknown option '%s'", argv[optind - 1]);
        default:
            return usage_error(rank, "unknown option '%s'", argv[optind - 1]);
        }
    }
    for (int i = optind; i < argc; i++) {
        if (c->opt.job_path)
            return usage_error(rank, "unexpected argument '%s'", argv[i]);
        c->opt.job_path = argv[i];
    }
    if (strcmp(c->cmd, "programs") && !c->opt.job_path)
        return usage_error(rank, "%s needs a job file", c->cmd);
    if (!strcmp(c->cmd, "programs") && c->opt.job_path)
        return usage_error(rank, "unexpected argument '%s'", c->opt.job_path);
    return -1;
}

static void print_program(const wse_program *p)
{
    printf("%s: %s\n", p->name, p->summary ? p->summary : "");
    for (int k = 0; k < p->n_params; k++)
        printf("  params.%-10s %s (default %g, range %g..%g)\n", p->params[k].name,
               p->params[k].help ? p->params[k].help : "", p->params[k].def, p->params[k].min,
               p->params[k].max);
    for (int k = 0; k < p->n_arrays; k++)
        printf("  %-6s %-8s %s\n", p->arrays[k].is_input ? "input" : "output",
               p->arrays[k].name, p->arrays[k].doc ? p->arrays[k].doc : "");
}

/* User programs first: they take precedence over built-ins of the same name. */
static void list_programs(const cli *c)
{
    for (int i = 0; i < c->opt.n_programs; i++)
        print_program(c->programs[i]);
    for (int i = 0; wse_program_at(i); i++)
        print_program(wse_program_at(i));
}

/* Load every --program-lib.  Returns 0, or WSE_ECONFIG with err set. */
static int load_libs(cli *c, wse_error *err)
{
    for (int l = 0; l < c->n_libs; l++) {
        const char *path = c->libs[l];
        /* a bare name would search the system paths: make it a path */
        char buf[4096];
        snprintf(buf, sizeof buf, "%s%s", strchr(path, '/') ? "" : "./", path);
        void *h = dlopen(buf, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            return wse_error_set(err, WSE_ECONFIG, path, 0, 0, "cannot load program library: %s", dlerror());
        }
        c->handles[l] = h;
        wse_user_program_fn fn;
        *(void **)&fn = dlsym(h, WSE_USER_PROGRAM_SYMBOL);
        if (!fn) {
            return wse_error_set(err, WSE_ECONFIG, path, 0, 0, "no function %s() in the library",
                                 WSE_USER_PROGRAM_SYMBOL);
        }
        for (int i = 0; fn(i) && c->opt.n_programs < MAX_USER_PROGRAMS; i++) {
            const wse_program *p = fn(i);
            if (p->api_version != WSE_API_VERSION) {
                /* before api_version existed the struct began with a pointer */
                int known = p->api_version > 0 && p->api_version < 1000;
                if (known)
                    return wse_error_set(err, WSE_ECONFIG, path, 0, 0,
                                         "program %d was built against PE API version %d, but this wsemu has version %d: rebuild it against this wsemu's wse/pe.h",
                                         i, p->api_version, WSE_API_VERSION);
                return wse_error_set(err, WSE_ECONFIG, path, 0, 0,
                                     "program %d was built against an older PE API (before version 2), but this wsemu has version %d: rebuild it against this wsemu's wse/pe.h",
                                     i, WSE_API_VERSION);
            }
            c->programs[c->opt.n_programs++] = p;
        }
    }
    c->opt.programs = c->programs;
    return 0;
}

/* An error as one line on stderr (rank 0 calls it). */
static void print_error(const wse_error *err)
{
    char buf[2048];
    wse_error_format(err, buf, sizeof buf);
    fprintf(stderr, "%s%s\n", err->file[0] ? "" : "wsemu: ", buf);
}

/* What `check --json` says of a job that passed. */
static void check_json(const cli *c, const wse_report *rep)
{
    wse_json j;
    wse_json_init(&j, stdout);
    wse_json_object_begin(&j, NULL);
    wse_json_str(&j, "job", c->opt.job_path);
    wse_json_bool(&j, "ok", 1);
    wse_json_str(&j, "program", rep->program);
    wse_json_str(&j, "topology", rep->topology);
    wse_json_object_begin(&j, "region");
    wse_json_int(&j, "x", rep->region.x);
    wse_json_int(&j, "y", rep->region.y);
    wse_json_int(&j, "width", rep->region.width);
    wse_json_int(&j, "height", rep->region.height);
    wse_json_uint(&j, "pes", (uint64_t)rep->region.width * (uint64_t)rep->region.height);
    wse_json_object_end(&j);
    wse_json_int(&j, "ranks", rep->ranks);
    wse_json_int(&j, "grid_x", rep->grid_px);
    wse_json_int(&j, "grid_y", rep->grid_py);
    wse_json_int(&j, "threads", rep->threads);
    wse_json_object_end(&j);
    fputc('\n', stdout);
}

static int exit_status(int rc)
{
    switch (rc) {
    case 0:
        return 0;
    case WSE_ECONFIG:
    case WSE_ESRAM:
    case WSE_EINVAL:
        return 2;
    default:
        return 1;
    }
}

int main(int argc, char **argv)
{
    int provided = 0, rank = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    cli c;
    memset(&c, 0, sizeof c);
    int status = parse(argc, argv, &c, rank);
    if (status >= 0)
        goto out;
    wse_error err;
    wse_error_clear(&err);
    /* a rank may fail alone (a library one node lacks): agreed, as every
     * collective step is, so that no rank waits for another */
    if (wse_agree(MPI_COMM_WORLD, load_libs(&c, &err), &err)) {
        if (rank == 0)
            print_error(&err);
        status = 2;
        goto out;
    }
    if (!strcmp(c.cmd, "programs")) {
        if (rank == 0)
            list_programs(&c);
        status = 0;
        goto out;
    }
    c.opt.sets = c.sets;
    c.opt.check_only = !strcmp(c.cmd, "check");
    c.opt.comm = MPI_COMM_WORLD;
    c.opt.progress = (rank == 0 && !c.quiet) ? stderr : NULL;
    wse_report rep;
    int rc = wse_run(&c.opt, &rep, &err);
    int worst = rc;
    MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    status = exit_status(worst);
    if (rank != 0)
        goto out;
    if (rc)
        print_error(&err);
    /* --json asks for stdout, so it prints even with --quiet */
    if (c.opt.check_only && rc == 0 && c.json)
        check_json(&c, &rep);
    else if (c.opt.check_only && rc == 0 && !c.quiet) {
        printf("%s: OK (%s on %s, region %dx%d, %llu PEs)\n", c.opt.job_path, rep.program,
               rep.topology, rep.region.width, rep.region.height,
               (unsigned long long)rep.region.width * (unsigned long long)rep.region.height);
        wse_report_print_wafer(&rep, stdout);
    }
    else if (!c.opt.check_only && (rc == 0 || rc == WSE_EVERIFY) && c.json)
        wse_report_json(&rep, stdout);
    else if (!c.opt.check_only && (rc == 0 || rc == WSE_EVERIFY) && !c.quiet)
        wse_report_print(&rep, stdout);
out:
    fflush(stdout);
    for (int l = 0; l < c.n_libs; l++)
        if (c.handles[l])
            dlclose(c.handles[l]);
    MPI_Finalize();
    return status;
}
