/*
 * tests/test_config.c - topology and job files, --set overrides, params.
 *
 * Most error cases live in the golden corpus (topologies/invalid and
 * jobs/invalid: NAME.yaml next to the one-line NAME.err it must produce),
 * so adding a case is adding two files.  The tests here walk that corpus
 * and cover what a file cannot express: a missing or oversized file,
 * --set overrides, wse_params_bind and the region defaults.  Small inline
 * YAML files go to a scratch directory that each test removes again.
 * Leaks are caught by running this suite under ASan/LSan.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <CUnit/CUnit.h>
#include "wse/config.h"
#include "test_list.h"

#define TOPO_DIR WSE_SOURCE_DIR "/topologies"

/* ---------------------------------------------------------------- helpers */

/* A temporary directory with the few files a test writes into it. */
typedef struct scratch {
    char dir[64];
    int n;
    char files[8][160];
} scratch;

static int scratch_open(scratch *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/wse_config_XXXXXX");
    return mkdtemp(s->dir) ? 0 : -1;
}

/* Write text to dir/name; returns the full path (inside s) or NULL. */
static const char *scratch_write(scratch *s, const char *name, const char *text)
{
    if (s->n == 8)
        return NULL;
    char *path = s->files[s->n], tmp[sizeof s->files[0]];
    snprintf(tmp, sizeof tmp, "%s/%s", s->dir, name); /* dir is in s too */
    memcpy(path, tmp, sizeof tmp);
    FILE *f = fopen(path, "wb");
    if (!f)
        return NULL;
    fputs(text, f);
    fclose(f);
    s->n++;
    return path;
}

static void scratch_close(scratch *s)
{
    for (int i = 0; i < s->n; i++)
        remove(s->files[i]);
    rmdir(s->dir);
}

static int read_text(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t len = fread(buf, 1, n - 1, f);
    fclose(f);
    buf[len] = '\0';
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = '\0';
    return 0;
}

/* Compare and say what differed: CU_ASSERT_STRING_EQUAL prints neither. */
static void expect_str(const char *got, const char *want)
{
    if (strcmp(got, want) != 0)
        fprintf(stderr, "\n  got:  %s\n  want: %s\n", got, want);
    CU_ASSERT_STRING_EQUAL(got, want);
}

static void expect_err(const wse_error *e, const char *want)
{
    char buf[2048];
    expect_str(wse_error_format(e, buf, sizeof buf), want);
}

/* The chain the CLI runs for a job: load, resolve, load topology, region. */
static int job_chain(const char *path, const char *const *sets, int n_sets,
                     wse_job *job, wse_topology *topo, wse_error *e)
{
    char tpath[WSE_PATH_MAX];
    int rc = wse_job_load(path, sets, n_sets, job, e);
    if (rc == 0)
        rc = wse_topology_resolve(job->topology, job->dir, TOPO_DIR, tpath, sizeof tpath, e);
    if (rc == 0)
        rc = wse_topology_load(tpath, topo, e);
    if (rc == 0)
        rc = wse_job_check_region(job, topo, e);
    return rc;
}

/* Load dir/name (topology or job chain) and compare with dir/NAME.err. */
static void check_golden(const char *dir, const char *name, int is_job)
{
    char path[512], errpath[512], want[2048], got[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(errpath, sizeof errpath, "%.*s.err", (int)(strlen(path) - 5), path);
    if (read_text(errpath, want, sizeof want) != 0) {
        fprintf(stderr, "\n  no golden file %s\n", errpath);
        CU_FAIL("missing .err file");
        return;
    }
    wse_error e;
    wse_error_clear(&e);
    int rc;
    if (is_job) {
        wse_job *job = malloc(sizeof *job);
        wse_topology topo;
        rc = job_chain(path, NULL, 0, job, &topo, &e);
        free(job);
    } else {
        wse_topology topo;
        rc = wse_topology_load(path, &topo, &e);
    }
    CU_ASSERT(rc < 0);
    CU_ASSERT_EQUAL(rc, e.code);
    expect_str(wse_error_format(&e, got, sizeof got), want);
}

static int walk_corpus(const char *dir, int is_job)
{
    DIR *d = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    int n = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        size_t len = strlen(ent->d_name);
        if (len < 6 || strcmp(ent->d_name + len - 5, ".yaml") != 0)
            continue;
        check_golden(dir, ent->d_name, is_job);
        n++;
    }
    closedir(d);
    return n;
}

/* ---------------------------------------------------------------- tests */

static void test_golden_corpus(void)
{
    int nt = walk_corpus("topologies/invalid", 0);
    int nj = walk_corpus("jobs/invalid", 1);
    CU_ASSERT(nt >= 20);
    CU_ASSERT(nj >= 10);
    CU_ASSERT(nt + nj >= 25);
}

static void test_real_topologies(void)
{
    wse_topology t;
    wse_error e;
    wse_error_clear(&e);
    CU_ASSERT_EQUAL_FATAL(wse_topology_load("topologies/wse2.yaml", &t, &e), 0);
    CU_ASSERT_STRING_EQUAL(t.name, "wse2");
    CU_ASSERT_STRING_EQUAL(t.path, "topologies/wse2.yaml");
    CU_ASSERT(t.width == 757 && t.height == 996);
    CU_ASSERT(t.prog_x == 4 && t.prog_y == 1 && t.prog_width == 750 && t.prog_height == 994);
    CU_ASSERT(t.sram_bytes == 49152 && t.colors == 24 && t.queue_depth == 4);
    CU_ASSERT(t.hop_latency_cycles == 1 && t.link_wavelets_per_cycle == 1);
    CU_ASSERT_DOUBLE_EQUAL(t.clock_hz, 850e6, 1e-3);
    CU_ASSERT(t.simd_fp16 == 4 && t.simd_fp32 == 1);
    CU_ASSERT(t.pj_per_flop > 0 && t.pj_per_hop > 0);

    CU_ASSERT_EQUAL_FATAL(wse_topology_load("topologies/wse3.yaml", &t, &e), 0);
    CU_ASSERT(t.width == 762 && t.height == 1176);
    CU_ASSERT(t.prog_x == 4 && t.prog_y == 1 && t.prog_width == 755 && t.prog_height == 1174);
    CU_ASSERT(t.colors == 24 && t.queue_depth == 4);

    /* 8x8 leaves most keys out: the schema defaults must fill them. */
    CU_ASSERT_EQUAL_FATAL(wse_topology_load("topologies/8x8.yaml", &t, &e), 0);
    CU_ASSERT_STRING_EQUAL(t.name, "8x8");
    CU_ASSERT(t.width == 8 && t.height == 8);
    CU_ASSERT(t.prog_x == 0 && t.prog_y == 0 && t.prog_width == 8 && t.prog_height == 8);
    CU_ASSERT(t.reserved_bytes == 0 && t.link_wavelets_per_cycle == 1);
    CU_ASSERT(t.task_switch_cycles == 2 && t.vector_startup_cycles == 2);
    CU_ASSERT(t.fabric_startup_cycles == 2 && t.simd_fp32 == 1 && t.simd_fp16 == 4);
    CU_ASSERT(t.pj_per_flop == 0.0 && t.pj_per_idle_pe_cycle == 0.0);
    CU_ASSERT(t.sram_read_bytes_per_cycle == 16 && t.sram_write_bytes_per_cycle == 8);
    CU_ASSERT(t.fabric_datapath_cycles == 1 && t.energy_calibrated == 0);

    CU_ASSERT_EQUAL_FATAL(wse_topology_load("topologies/laptop.yaml", &t, &e), 0);
    CU_ASSERT(t.width == 64 && t.height == 64 && t.prog_width == 64 && t.prog_height == 64);
    CU_ASSERT(t.sram_bytes == 49152 && t.reserved_bytes == 2048);
    CU_ASSERT_EQUAL(e.code, 0);
}

static void test_number_forms(void)
{
    static const char *const clocks[] = { "850e6", "8.5e8", "850.0e6", "850000000", "+8.5E+8" };
    scratch s;
    CU_ASSERT_FATAL(scratch_open(&s) == 0);
    for (int i = 0; i < 5; i++) {
        char text[512], name[32];
        snprintf(text, sizeof text, "name: t\nfabric: {width: 2, height: 2}\npe: {sram_bytes: 1024}\nrouter: {colors: 1, queue_depth: 1, hop_latency_cycles: 1}\ncompute: {clock_hz: %s}\n", clocks[i]);
        snprintf(name, sizeof name, "t%d.yaml", i);
        const char *p = scratch_write(&s, name, text);
        wse_topology t;
        wse_error e;
        wse_error_clear(&e);
        CU_ASSERT_EQUAL(wse_topology_load(p, &t, &e), 0);
        CU_ASSERT_DOUBLE_EQUAL(t.clock_hz, 850e6, 1e-3);
    }
    scratch_close(&s);
}

static void test_io_errors(void)
{
    wse_topology t;
    wse_error e;
    char want[1024];
    wse_error_clear(&e);
    CU_ASSERT_EQUAL(wse_topology_load("topologies/no-such.yaml", &t, &e), WSE_EIO);
    snprintf(want, sizeof want, "topologies/no-such.yaml: error: cannot open file: %s", strerror(ENOENT));
    expect_err(&e, want);

    wse_error_clear(&e);
    CU_ASSERT_EQUAL(wse_topology_load("topologies", &t, &e), WSE_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, strerror(EISDIR)));

    /* One byte over the limit is refused; exactly the limit is parsed. */
    scratch s;
    CU_ASSERT_FATAL(scratch_open(&s) == 0);
    char *big = malloc(WSE_CONFIG_MAX_BYTES + 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    memset(big, ' ', WSE_CONFIG_MAX_BYTES + 1);
    memcpy(big, "name: x\n#", 9);
    big[WSE_CONFIG_MAX_BYTES + 1] = '\0';
    const char *p = scratch_write(&s, "big.yaml", big);
    wse_error_clear(&e);
    CU_ASSERT_EQUAL(wse_topology_load(p, &t, &e), WSE_ECONFIG);
    snprintf(want, sizeof want, "%s: error: file is larger than %d bytes", p, WSE_CONFIG_MAX_BYTES);
    expect_err(&e, want);
    big[WSE_CONFIG_MAX_BYTES] = '\0';
    p = scratch_write(&s, "limit.yaml", big);
    wse_error_clear(&e);
    CU_ASSERT_EQUAL(wse_topology_load(p, &t, &e), WSE_ECONFIG);
    CU_ASSERT_STRING_EQUAL(e.msg, "missing required key 'fabric'");
    free(big);
    scratch_close(&s);
}

static const char good_job[] =
    "topology: 8x8\n"
    "program: heat2d\n"
    "params: {tile_w: 4, steps: 20, alpha: 0.1}\n"
    "inputs:\n"
    "  u0: {generate: spike}\n"
    "  b: {file: data/b.npy, seed: 18446744073709551615}\n"
    "  c: {file: /abs/c.npy}\n"
    "outputs: [u, v]\n";

static void test_job_defaults(void)
{
    scratch s;
    CU_ASSERT_FATAL(scratch_open(&s) == 0);
    const char *p = scratch_write(&s, "job.yaml", good_job);
    wse_job *j = calloc(1, sizeof *j);
    wse_topology t;
    wse_error e;
    char want[256];
    wse_error_clear(&e);
    CU_ASSERT_EQUAL_FATAL(job_chain(p, NULL, 0, j, &t, &e), 0);
    CU_ASSERT_STRING_EQUAL(j->path, p);
    CU_ASSERT_STRING_EQUAL(j->dir, s.dir);
    CU_ASSERT_STRING_EQUAL(j->topology, "8x8");
    CU_ASSERT_STRING_EQUAL(j->program, "heat2d");
    CU_ASSERT(j->mode == WSE_MODE_EXACT && j->window_cycles == 0 && j->verify == 0);
    CU_ASSERT(j->max_cycles == 1000000000000LL);
    CU_ASSERT(j->region_set == 0);
    CU_ASSERT(j->region_x == 0 && j->region_y == 0 && j->region_width == 8 && j->region_height == 8);
    CU_ASSERT_EQUAL_FATAL(j->n_params, 3);
    CU_ASSERT_STRING_EQUAL(j->params[1].key, "steps");
    CU_ASSERT_STRING_EQUAL(j->params[1].text, "20");
    CU_ASSERT_STRING_EQUAL(j->params[1].file, p);
    CU_ASSERT(j->params[1].line == 3 && j->params[1].column == 21);
    CU_ASSERT_EQUAL_FATAL(j->n_inputs, 3);
    CU_ASSERT(j->inputs[0].kind == WSE_INPUT_GENERATE && j->inputs[0].generator == WSE_GEN_SPIKE);
    CU_ASSERT(j->inputs[0].seed == 1 && j->inputs[0].lo == 0.0 && j->inputs[0].hi == 1.0);
    CU_ASSERT(j->inputs[0].line == 5 && j->inputs[0].column == 3);
    CU_ASSERT(j->inputs[1].kind == WSE_INPUT_FILE && j->inputs[1].seed == UINT64_MAX);
    snprintf(want, sizeof want, "%s/data/b.npy", s.dir);
    CU_ASSERT_STRING_EQUAL(j->inputs[1].path, want);
    CU_ASSERT_STRING_EQUAL(j->inputs[2].path, "/abs/c.npy");
    CU_ASSERT(j->n_outputs == 2 && strcmp(j->outputs[1], "v") == 0);

    /* A job path without a directory part: dir is ".". */
    CU_ASSERT_FATAL(chdir(s.dir) == 0);
    wse_error_clear(&e);
    CU_ASSERT_EQUAL(wse_job_load("job.yaml", NULL, 0, j, &e), 0);
    CU_ASSERT_STRING_EQUAL(j->dir, ".");
    CU_ASSERT_STRING_EQUAL(j->inputs[1].path, "./data/b.npy");
    CU_ASSERT_FATAL(chdir(WSE_SOURCE_DIR) == 0);
    free(j);
    scratch_close(&s);
}

static void test_set_overrides(void)
{
    scratch s;
    CU_ASSERT_FATAL(scratch_open(&s) == 0);
    const char *p = scratch_write(&s, "job.yaml", good_job);
    wse_job *j = calloc(1, sizeof *j);
    wse_topology t;
    wse_error e;
    const char *sets[] = { "params.steps=7", "params.steps=5", "params.newname=x",
                           "inputs.u0.seed=9", "verify=YES", "mode=relaxed",
                           "outputs=w", "region.width=4", "inputs.u0.lo=-8.5e-1" };
    wse_error_clear(&e);
    CU_ASSERT_EQUAL_FATAL(job_chain(p, sets, 9, j, &t, &e), 0);
    CU_ASSERT_STRING_EQUAL(j->params[1].text, "5");
    CU_ASSERT_STRING_EQUAL(j->params[1].file, "--set params.steps");
    CU_ASSERT(j->params[1].line == 0 && j->params[1].column == 0);
    CU_ASSERT(j->n_params == 4 && strcmp(j->params[3].key, "newname") == 0);
    CU_ASSERT(j->inputs[0].seed == 9 && j->inputs[0].lo == -0.85);
    CU_ASSERT(j->verify == 1 && j->mode == WSE_MODE_RELAXED);
    CU_ASSERT(j->n_outputs == 1 && strcmp(j->outputs[0], "w") == 0);
    CU_ASSERT(j->region_set == 1 && j->region_width == 4 && j->region_height == 8);
    CU_ASSERT(j->region_x == 0 && j->region_y == 0);
    CU_ASSERT_STRING_EQUAL(j->region_mark.file, "--set region.width");

    static const struct { const char *set, *want; } bad[] = {
        { "progam=x", "--set progam: error: unknown key 'progam' (did you mean 'program'?)" },
        { "inputs.u0.sead=1", "--set inputs.u0.sead: error: unknown key 'sead' in 'inputs.u0' (did you mean 'seed'?)" },
        { "max_cycles=abc", "--set max_cycles: error: max_cycles must be an integer, got 'abc'" },
        { "window_cycles=-1", "--set window_cycles: error: window_cycles = -1 is out of range (allowed 0..1000000000)" },
        { "verify=", "--set verify: error: verify must be a boolean (true/false, yes/no, on/off), got ''" },
        { "steps5", "--set: error: malformed override 'steps5' (expected KEY.PATH=VALUE)" },
        { "=5", "--set: error: malformed override '=5' (expected KEY.PATH=VALUE)" },
        { "params..steps=1", "--set params..steps: error: malformed override key 'params..steps' (empty component)" },
        { "program.x=1", "--set program.x: error: 'program' is a scalar, not a mapping" },
        { "inputs.u9.seed=3", "--set inputs.u9.seed: error: input 'u9' needs exactly one of 'file' or 'generate'" },
        { "region.width=20", "--set region.width: error: region 20x8 at (0,0) does not fit the 8x8 fabric of topology '8x8'" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wse_error_clear(&e);
        CU_ASSERT_EQUAL(job_chain(p, &bad[i].set, 1, j, &t, &e), WSE_ECONFIG);
        expect_err(&e, bad[i].want);
    }
    free(j);
    scratch_close(&s);
}

typedef struct toy_params {
    int64_t steps;
    double alpha;
    int64_t verbose;
} toy_params;

static const wse_param_spec toy_spec[] = {
    { "steps", WSE_PARAM_INT, 10, 1, 1000000, offsetof(toy_params, steps), "time steps" },
    { "alpha", WSE_PARAM_FLOAT, 0.25, 0, 0.5, offsetof(toy_params, alpha), "diffusion" },
    { "verbose", WSE_PARAM_BOOL, 1, 0, 1, offsetof(toy_params, verbose), "chatty" },
};

/* Bind one --set param against toy_spec; returns the code. */
static int bind_one(const char *path, const char *set, toy_params *tp, wse_error *e)
{
    wse_job *j = calloc(1, sizeof *j);
    wse_error_clear(e);
    int rc = wse_job_load(path, set ? &set : NULL, set ? 1 : 0, j, e);
    if (rc == 0)
        rc = wse_params_bind(j, toy_spec, 3, tp, e);
    free(j);
    return rc;
}

static void test_params_bind(void)
{
    scratch s;
    CU_ASSERT_FATAL(scratch_open(&s) == 0);
    const char *p0 = scratch_write(&s, "none.yaml", "topology: 8x8\nprogram: toy\n");
    const char *p1 = scratch_write(&s, "some.yaml", "topology: 8x8\nprogram: toy\nparams:\n  steps: 42\n  alpha: 5e-2\n  verbose: off\n");
    const char *p2 = scratch_write(&s, "typo.yaml", "topology: 8x8\nprogram: toy\nparams:\n  stpes: 42\n");
    toy_params tp;
    wse_error e;
    char want[512];
    CU_ASSERT_EQUAL(bind_one(p0, NULL, &tp, &e), 0);
    CU_ASSERT(tp.steps == 10 && tp.alpha == 0.25 && tp.verbose == 1);
    CU_ASSERT_EQUAL(bind_one(p1, NULL, &tp, &e), 0);
    CU_ASSERT(tp.steps == 42 && tp.alpha == 0.05 && tp.verbose == 0);
    CU_ASSERT_EQUAL(bind_one(p1, "params.alpha=0", &tp, &e), 0);
    CU_ASSERT(tp.alpha == 0.0);
    CU_ASSERT_EQUAL(bind_one(p1, "params.alpha=1", &tp, &e), WSE_ECONFIG);
    expect_err(&e, "--set params.alpha: error: parameter 'alpha' = 1 is out of range (allowed 0..0.5)");
    CU_ASSERT_EQUAL(bind_one(p1, "params.steps=1.5", &tp, &e), WSE_ECONFIG);
    expect_err(&e, "--set params.steps: error: parameter 'steps' must be an integer, got '1.5'");
    CU_ASSERT_EQUAL(bind_one(p1, "params.steps=0", &tp, &e), WSE_ECONFIG);
    expect_err(&e, "--set params.steps: error: parameter 'steps' = 0 is out of range (allowed 1..1000000)");
    CU_ASSERT_EQUAL(bind_one(p1, "params.steps=99999999999999999999", &tp, &e), WSE_ECONFIG);
    expect_err(&e, "--set params.steps: error: parameter 'steps' = 99999999999999999999 overflows a 64-bit integer");
    CU_ASSERT_EQUAL(bind_one(p1, "params.verbose=2", &tp, &e), WSE_ECONFIG);
    expect_err(&e, "--set params.verbose: error: parameter 'verbose' must be a boolean (true/false), got '2'");
    CU_ASSERT_EQUAL(bind_one(p1, "params.alpha=lots", &tp, &e), WSE_ECONFIG);
    expect_err(&e, "--set params.alpha: error: parameter 'alpha' must be a number, got 'lots'");
    CU_ASSERT_EQUAL(bind_one(p2, NULL, &tp, &e), WSE_ECONFIG);
    snprintf(want, sizeof want, "%s:4:3: error: unknown parameter 'stpes' (did you mean 'steps'? valid names: steps, alpha, verbose)", p2);
    expect_err(&e, want);
    CU_ASSERT_EQUAL(bind_one(p0, "params.colour=1", &tp, &e), WSE_ECONFIG);
    expect_err(&e, "--set params.colour: error: unknown parameter 'colour' (valid names: steps, alpha, verbose)");

    wse_job *j = calloc(1, sizeof *j);
    wse_error_clear(&e);
    CU_ASSERT_EQUAL(wse_job_load(p2, NULL, 0, j, &e), 0);
    CU_ASSERT_EQUAL(wse_params_bind(j, NULL, 0, &tp, &e), WSE_ECONFIG);
    CU_ASSERT_STRING_EQUAL(e.msg, "unknown parameter 'stpes' (this program takes no parameters)");
    free(j);
    scratch_close(&s);
}

static void test_resolve(void)
{
    char buf[WSE_PATH_MAX], tiny[8];
    wse_error e;
    wse_error_clear(&e);
    CU_ASSERT_EQUAL(wse_topology_resolve("wse2", "jobs", "/t", buf, sizeof buf, &e), 0);
    CU_ASSERT_STRING_EQUAL(buf, "/t/wse2.yaml");
    CU_ASSERT_EQUAL(wse_topology_resolve("my.yaml", "jobs", "/t", buf, sizeof buf, &e), 0);
    CU_ASSERT_STRING_EQUAL(buf, "jobs/my.yaml");
    CU_ASSERT_EQUAL(wse_topology_resolve("../x/y", "jobs", "/t", buf, sizeof buf, &e), 0);
    CU_ASSERT_STRING_EQUAL(buf, "jobs/../x/y");
    CU_ASSERT_EQUAL(wse_topology_resolve("/abs/y.yaml", "jobs", "/t", buf, sizeof buf, &e), 0);
    CU_ASSERT_STRING_EQUAL(buf, "/abs/y.yaml");
    CU_ASSERT_EQUAL(wse_topology_resolve("x/y.yaml", NULL, "/t", buf, sizeof buf, &e), 0);
    CU_ASSERT_STRING_EQUAL(buf, "x/y.yaml");
    CU_ASSERT_EQUAL(wse_topology_resolve("x/y.yaml", ".", "/t", buf, sizeof buf, &e), 0);
    CU_ASSERT_STRING_EQUAL(buf, "x/y.yaml");
    CU_ASSERT_EQUAL(e.code, 0);
    CU_ASSERT_EQUAL(wse_topology_resolve("wse2", NULL, "/t", tiny, sizeof tiny, &e), WSE_EINVAL);
    CU_ASSERT_STRING_EQUAL(tiny, "");
    wse_error_clear(&e);
    CU_ASSERT_EQUAL(wse_topology_resolve("", NULL, "/t", buf, sizeof buf, &e), WSE_EINVAL);
}

static void test_check_region(void)
{
    wse_topology wse2;
    wse_job *j = calloc(1, sizeof *j);
    wse_error e;
    wse_error_clear(&e);
    CU_ASSERT_EQUAL_FATAL(wse_topology_load("topologies/wse2.yaml", &wse2, &e), 0);
    strcpy(j->path, "jobs/x.yaml");
    CU_ASSERT_EQUAL(wse_job_check_region(j, &wse2, &e), 0);
    CU_ASSERT(j->region_x == 4 && j->region_y == 1 && j->region_width == 750 && j->region_height == 994);

    /* Only x given: the rest from the program rectangle. */
    j->region_set = 1;
    j->region_x = 7;
    j->region_y = -1;
    j->region_width = j->region_height = 0;
    CU_ASSERT_EQUAL(wse_job_check_region(j, &wse2, &e), 0);
    CU_ASSERT(j->region_x == 7 && j->region_y == 1 && j->region_width == 750 && j->region_height == 994);

    j->region_x = 8;
    j->region_y = 2;
    j->region_width = 750;
    j->region_height = 995;
    snprintf(j->region_mark.file, sizeof j->region_mark.file, "jobs/x.yaml");
    j->region_mark.line = 5;
    j->region_mark.column = 9;
    CU_ASSERT_EQUAL(wse_job_check_region(j, &wse2, &e), WSE_ECONFIG);
    expect_err(&e, "jobs/x.yaml:5:9: error: region 750x995 at (8,2) does not fit the 757x996 fabric of topology 'wse2'");
    free(j);
}

static void test_bad_arguments(void)
{
    wse_error e;
    wse_topology t;
    wse_job *j = calloc(1, sizeof *j);
    wse_error_clear(&e);
    CU_ASSERT_EQUAL(wse_topology_load(NULL, &t, &e), WSE_EINVAL);
    wse_error_clear(&e);
    CU_ASSERT_EQUAL(wse_job_load("jobs/x.yaml", NULL, 1, j, &e), WSE_EINVAL);
    wse_error_clear(&e);
    CU_ASSERT_EQUAL(wse_job_load("jobs/x.yaml", NULL, WSE_MAX_SETS + 1, j, &e), WSE_EINVAL);
    wse_error_clear(&e);
    CU_ASSERT_EQUAL(wse_params_bind(NULL, toy_spec, 3, &t, &e), WSE_EINVAL);
    /* A NULL error record is allowed: only the code comes back. */
    CU_ASSERT_EQUAL(wse_topology_load("topologies/invalid/empty.yaml", &t, NULL), WSE_ECONFIG);
    free(j);
}

static int suite_init(void)
{
    return chdir(WSE_SOURCE_DIR) == 0 ? 0 : -1;
}

int test_config_suite(void)
{
    CU_pSuite s = CU_add_suite("config", suite_init, NULL);
    if (!s || !CU_add_test(s, "golden invalid corpus", test_golden_corpus) ||
        !CU_add_test(s, "shipped topologies", test_real_topologies) ||
        !CU_add_test(s, "number forms", test_number_forms) ||
        !CU_add_test(s, "missing, unreadable, oversized files", test_io_errors) ||
        !CU_add_test(s, "job defaults", test_job_defaults) ||
        !CU_add_test(s, "--set overrides", test_set_overrides) ||
        !CU_add_test(s, "params bind", test_params_bind) ||
        !CU_add_test(s, "topology resolve", test_resolve) ||
        !CU_add_test(s, "job region check", test_check_region) ||
        !CU_add_test(s, "bad arguments", test_bad_arguments))
        return CU_get_error();
    return 0;
}
