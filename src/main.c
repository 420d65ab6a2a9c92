/*
 * src/main.c - the wsemu command: arguments, MPI, printing, exit status.
 *
 * Exit status: 0 success; 1 the run failed (deadlock, routing error,
 * verification failure, I/O); 2 bad input (usage, job, topology, params,
 * SRAM budget).  Only rank 0 prints; every rank exits with the same
 * status after agreeing on it.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dlfcn.h>
#include <unistd.h>
#include <mpi.h>
#include "wse/programs.h"
#include "wse/run.h"

#ifndef WSE_VERSION
#define WSE_VERSION "unknown"
#endif

static const char usage[] =
    "usage: wsemu run JOB.yaml [options]    run a job\n"
    "       wsemu check JOB.yaml [options]  validate a job and its topology without running\n"
    "       wsemu programs                  list the built-in programs and their parameters\n"
    "       wsemu --help | --version\n"
    "\n"
    "options:\n"
    "  --topology NAME|FILE   use this topology instead of the job's\n"
    "  --set KEY.PATH=VALUE   override a job key, e.g. --set params.steps=50 (repeatable)\n"
    "  --out DIR              write DIR/report.json and each output array as DIR/NAME.npy\n"
    "  --grid PxQ             cut the region into P x Q rank shards (default: shortest cuts)\n"
    "  --program-lib FILE.so  load programs built outside wsemu (repeatable; see README)\n"
    "  --threads N            worker threads (shard rows) per rank (default: the cores hwloc gives\n"
    "                         the rank, at most one per 64 Ki PEs of its shard)\n"
    "  --json                 print the report as JSON on stdout instead of the summary\n"
    "  --quiet                print nothing on success\n"
    "\n"
    "Exit status: 0 success, 1 the run failed, 2 bad input.\n"
    "Named topologies are looked up in $WSEMU_TOPOLOGY_DIR, else the built-in directory.\n";

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

/* Parse argv into c.  Returns -1 to go on, else an exit status. */
static int parse(int argc, char **argv, cli *c, int rank)
{
    if (argc < 2)
        return usage_error(rank, "%s", "missing command");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        if (rank == 0)
            fputs(usage, stdout);
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
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "--grid") || !strcmp(a, "--threads")) {
            if (!has_val)
                return usage_error(rank, "option %s needs a value", a);
            const char *v = argv[++i];
            char end = 0;
            int ok = !strcmp(a, "--grid")
                ? sscanf(v, "%dx%d%c", &c->opt.grid_px, &c->opt.grid_py, &end) == 2 &&
                      c->opt.grid_px > 0 && c->opt.grid_py > 0
                : sscanf(v, "%d%c", &c->opt.threads, &end) == 1 && c->opt.threads > 0 &&
                      c->opt.threads <= 1024;
            if (!ok)
                return usage_error(rank, !strcmp(a, "--grid") ? "--grid wants PxQ with P, Q >= 1, not '%s'"
                                                               : "--threads wants a number 1..1024, not '%s'", v);
        } else if (!strcmp(a, "--program-lib")) {
            if (!has_val)
                return usage_error(rank, "option %s needs a value", a);
            if (c->n_libs == MAX_LIBS)
                return usage_error(rank, "%s", "too many --program-lib options");
            c->libs[c->n_libs++] = argv[++i];
        } else if (!strcmp(a, "--topology") || !strcmp(a, "--set") || !strcmp(a, "--out")) {
            if (!has_val)
                return usage_error(rank, "option %s needs a value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "--topology"))
                c->opt.topology = v;
            else if (!strcmp(a, "--out"))
                c->opt.out_dir = v;
            else if (c->opt.n_sets == WSE_MAX_SETS)
                return usage_error(rank, "%s", "too many --set options");
            else
                c->sets[c->opt.n_sets++] = v;
        } else if (!strcmp(a, "--json")) {
            c->json = 1;
        } else if (!strcmp(a, "--quiet")) {
            c->quiet = 1;
        } else if (a[0] == '-') {
            return usage_error(rank, "unknown option '%s'", a);
        } else if (!c->opt.job_path) {
            c->opt.job_path = a;
        } else {
            return usage_error(rank, "unexpected argument '%s'", a);
        }
    }
    if (strcmp(c->cmd, "programs") && !c->opt.job_path)
        return usage_error(rank, "%s needs a job file", c->cmd);
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

/* Load every --program-lib.  Returns -1 to go on, else an exit status
 * with its message in msg (a rank may fail alone: a library one node
 * lacks). */
static int load_libs(cli *c, char *msg, size_t n)
{
    for (int l = 0; l < c->n_libs; l++) {
        const char *path = c->libs[l];
        /* a bare name would search the system paths: make it a path */
        char buf[4096];
        snprintf(buf, sizeof buf, "%s%s", strchr(path, '/') ? "" : "./", path);
        void *h = dlopen(buf, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            snprintf(msg, n, "%s: error: cannot load program library: %s\n", path, dlerror());
            return 2;
        }
        c->handles[l] = h;
        wse_user_program_fn fn;
        *(void **)&fn = dlsym(h, WSE_USER_PROGRAM_SYMBOL);
        if (!fn) {
            snprintf(msg, n, "%s: error: no function %s() in the library\n", path, WSE_USER_PROGRAM_SYMBOL);
            return 2;
        }
        for (int i = 0; fn(i) && c->opt.n_programs < MAX_USER_PROGRAMS; i++) {
            const wse_program *p = fn(i);
            if (p->api_version != WSE_API_VERSION) {
                /* before api_version existed the struct began with a pointer */
                int known = p->api_version > 0 && p->api_version < 1000;
                if (known)
                    snprintf(msg, n, "%s: error: program %d was built against PE API version %d, but this wsemu has version %d: rebuild it against this wsemu's wse/pe.h\n",
                             path, i, p->api_version, WSE_API_VERSION);
                else
                    snprintf(msg, n, "%s: error: program %d was built against an older PE API (before version 2), but this wsemu has version %d: rebuild it against this wsemu's wse/pe.h\n",
                             path, i, WSE_API_VERSION);
                return 2;
            }
            c->programs[c->opt.n_programs++] = p;
        }
    }
    c->opt.programs = c->programs;
    return -1;
}

/* After a step some ranks may fail alone: every rank takes the worst
 * status (-1: all go on), and the lowest failing rank prints its message,
 * so there is exactly one. */
static int agree_status(int status, const char *msg, int rank)
{
    int worst = status, first = 0, mine = status >= 0 ? rank : INT_MAX;
    MPI_Allreduce(&status, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (worst >= 0 && rank == first)
        fputs(msg, stderr);
    return worst;
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
    char msg[4096] = "";
    if ((status = agree_status(load_libs(&c, msg, sizeof msg), msg, rank)) >= 0)
        goto out;
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
    wse_error err;
    wse_error_clear(&err);
    int rc = wse_run(&c.opt, &rep, &err);
    int worst = rc;
    MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    status = exit_status(worst);
    if (rank != 0)
        goto out;
    if (rc) {
        char buf[2048];
        wse_error_format(&err, buf, sizeof buf);
        fprintf(stderr, "%s%s\n", err.file[0] ? "" : "wsemu: ", buf);
    }
    if (c.opt.check_only && rc == 0 && !c.quiet)
        printf("%s: OK (%s on %s, region %dx%d, %llu PEs)\n", c.opt.job_path, rep.program,
               rep.topology, rep.region.width, rep.region.height,
               (unsigned long long)rep.region.width * (unsigned long long)rep.region.height);
    else if (!c.opt.check_only && (rc == 0 || rc == WSE_EVERIFY) && !c.quiet) {
        if (c.json)
            wse_report_json(&rep, stdout);
        else
            wse_report_print(&rep, stdout);
    }
out:
    fflush(stdout);
    for (int l = 0; l < c.n_libs; l++)
        if (c.handles[l])
            dlclose(c.handles[l]);
    MPI_Finalize();
    return status;
}
