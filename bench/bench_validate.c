/* bench-validate: wall time of `refund-harness validate FILE` on large generated scenario files -
 * thousands of duplicated rules, tens of thousands of subscriptions with distinct or repeated
 * receiver names - so a person can see that validation grows with the size of the file, not with
 * its square. Also counts the errors each run reports. Nothing is asserted. */
#define _POSIX_C_SOURCE 200809L
#include "bench_stats.h"
#include "oms_cli.h"
#include "oms_time.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ROUNDS 16

struct options {
    const char *harness;
    const char *tmp;
    const char *out;
    unsigned rounds;
    long timeout_s;
    int quick;
};

enum kind { DUP_RULES, SUBSCRIPTIONS, DUP_RECEIVERS };

struct bench_case {
    enum kind kind;
    long n;
    char name[64];
    char file[1200];
    long bytes;
    double wall_s[MAX_ROUNDS];
    int timed_out;
    int exit_code;
    long error_lines; /* "invalid ..." lines printed */
    long errors;      /* lines plus the "... and N more" figure */
};

static int parse(int argc, char **argv, struct options *o)
{
    *o = (struct options){.rounds = 3, .timeout_s = 600};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long n;
        if (strcmp(a, "--quick") == 0) {
            o->quick = 1;
            continue;
        }
        if (i + 1 >= argc)
            return -1;
        const char *v = argv[++i];
        if (strcmp(a, "--harness") == 0)
            o->harness = v;
        else if (strcmp(a, "--tmp") == 0)
            o->tmp = v;
        else if (strcmp(a, "--out") == 0)
            o->out = v;
        else if (strcmp(a, "--rounds") == 0 && oms_cli_int(v, 1, MAX_ROUNDS, &n) == 0)
            o->rounds = (unsigned)n;
        else if (strcmp(a, "--timeout") == 0 && oms_cli_int(v, 1, 86400, &n) == 0)
            o->timeout_s = n;
        else
            return -1;
    }
    return o->harness && o->tmp && o->out ? 0 : -1;
}

/* A valid one-command scenario, then the part under test made large. */
static json_t *scenario(enum kind kind, long n)
{
    json_t *rules = json_array(), *subs = json_array();
    json_array_append_new(rules, json_string("C-6"));
    for (long i = 0; kind == DUP_RULES && i < n; i++)
        json_array_append_new(rules, json_string("C-3"));
    for (long i = 0; kind != DUP_RULES && i < n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "r-%07ld", kind == DUP_RECEIVERS ? i / 2 : i);
        json_array_append_new(subs,
                              json_pack("{s:s, s:s}", "event_type",
                                        "package.status.packed_for_refund", "receiver", name));
    }
    return json_pack("{s:s, s:o, s:{s:[{s:i, s:i, s:i}], s:[{s:i, s:i, s:s}], s:o}, "
                     "s:[{s:{s:i, s:{s:i, s:i}}, s:{s:{s:i}}}]}",
                     "name", "bench: a large scenario", "rules", rules, "given", "locations", "id",
                     1, "max_quota", 5, "quota", 1, "packages", "id", 501, "location", 1, "status",
                     "Waiting", "subscriptions", subs, "when", "command", "package", 501, "body",
                     "package", 501, "transition", 17, "then", "response", "status", 204);
}

static int write_case(const struct options *o, struct bench_case *c)
{
    static const char *const names[] = {"duplicate rules", "subscriptions",
                                        "subscriptions, receivers twice"};
    snprintf(c->name, sizeof(c->name), "%s", names[c->kind]);
    if ((size_t)snprintf(c->file, sizeof(c->file), "%s/validate-%d-%ld.json", o->tmp, (int)c->kind,
                         c->n) >= sizeof(c->file))
        return -1;
    json_t *doc = scenario(c->kind, c->n);
    int rc = doc ? json_dump_file(doc, c->file, JSON_COMPACT) : -1;
    json_decref(doc);
    struct stat st;
    if (rc != 0 || stat(c->file, &st) != 0)
        return -1;
    c->bytes = (long)st.st_size;
    return 0;
}

/* Reads the validator's stderr: "invalid ..." lines and "... and N more error(s)". */
static void count_errors(const char *log, struct bench_case *c)
{
    FILE *f = fopen(log, "r");
    char line[4096];
    c->error_lines = 0;
    c->errors = 0;
    while (f && fgets(line, sizeof(line), f)) {
        const char *more = strstr(line, "... and ");
        if (more) {
            c->errors += strtol(more + 8, NULL, 10);
            continue;
        }
        if (strncmp(line, "invalid", 7) == 0) {
            c->error_lines++;
            c->errors++;
        }
    }
    if (f)
        fclose(f);
}

/* One run; returns the wall time in seconds, or -1 on a timeout (the child is killed). */
static double run_once(const struct options *o, struct bench_case *c)
{
    char log[1300];
    snprintf(log, sizeof(log), "%s.err", c->file);
    int64_t start = oms_time_mono_us();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        int err = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (null >= 0)
            dup2(null, STDOUT_FILENO);
        if (err >= 0)
            dup2(err, STDERR_FILENO);
        execl(o->harness, o->harness, "validate", c->file, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    for (;;) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid)
            break;
        if (done < 0 && errno != EINTR)
            return -1;
        if (oms_time_mono_us() - start > (int64_t)o->timeout_s * 1000000) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            c->timed_out = 1;
            return -1;
        }
        oms_time_sleep_ms(5);
    }
    double wall = (double)(oms_time_mono_us() - start) / 1e6;
    c->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    count_errors(log, c);
    return wall;
}

int main(int argc, char **argv)
{
    static struct options o;
    if (parse(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: bench-validate --harness BIN --tmp DIR --out FILE [--rounds N]\n"
                        "       [--timeout SECONDS] [--quick]\n");
        return 2;
    }
    static const long full[][3] = {{5000, 10000, 20000}, {10000, 50000, 100000}, {100000, 0, 0}};
    static const long quick[][3] = {{1000, 5000, 0}, {1000, 10000, 0}, {10000, 0, 0}};
    const long(*sizes)[3] = o.quick ? quick : full;
    static struct bench_case cases[9];
    size_t n = 0;
    for (int k = 0; k < 3; k++)
        for (int j = 0; j < 3 && sizes[k][j] > 0; j++) {
            cases[n].kind = (enum kind)k;
            cases[n].n = sizes[k][j];
            if (write_case(&o, &cases[n]) != 0) {
                fprintf(stderr, "bench-validate: cannot write a scenario in %s\n", o.tmp);
                return 3;
            }
            n++;
        }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        struct bench_case *c = &cases[i];
        unsigned done = 0;
        for (unsigned round = 0; round < o.rounds && !c->timed_out; round++) {
            double wall = run_once(&o, c);
            if (wall < 0)
                break;
            c->wall_s[done++] = wall;
            fprintf(stderr, "  %-31s %7ld (%5.2f MB) round %u: %8.3f s, exit %d, %ld error(s)\n",
                    c->name, c->n, (double)c->bytes / 1e6, round + 1, wall, c->exit_code,
                    c->errors);
        }
        if (c->timed_out)
            fprintf(stderr, "  %-31s %7ld (%5.2f MB): more than %ld s, stopped\n", c->name, c->n,
                    (double)c->bytes / 1e6, o.timeout_s);
        json_array_append_new(
            list,
            json_pack("{s:s, s:I, s:I, s:b, s:f, s:i, s:I, s:I}", "case", c->name, "n",
                      (json_int_t)c->n, "bytes", (json_int_t)c->bytes, "timed_out", c->timed_out,
                      "wall_s", c->timed_out ? (double)o.timeout_s : bench_median(c->wall_s, done),
                      "exit_code", c->exit_code, "errors", (json_int_t)c->errors, "error_lines",
                      (json_int_t)c->error_lines));
        char log[1300];
        snprintf(log, sizeof(log), "%s.err", c->file);
        unlink(log);
        unlink(c->file);
    }
    json_t *doc = json_pack("{s:s, s:i, s:I, s:o}", "benchmark", "validate", "rounds",
                            (int)o.rounds, "timeout_s", (json_int_t)o.timeout_s, "cases", list);
    int rc = json_dump_file(doc, o.out, JSON_INDENT(2)) == 0 ? 0 : 3;
    json_decref(doc);
    return rc;
}
