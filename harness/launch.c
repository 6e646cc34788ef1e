/* launch: the target a job starts itself, on demand. */
#include "launch.h"

#include "oms_alloc.h"
#include "oms_buf.h"
#include "oms_fixture_token.h"
#include "repro.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct launch {
    char *command; /* NULL: nothing can be launched (why says why, or nothing was asked for) */
    char *why;
    char *url;
    struct sut *sut;
    struct target *target;
    int failed;                            /* starting it failed once */
    char token[OMS_FIXTURE_TOKEN_MAX + 1]; /* the fixture token the target is started with */
};

/* oms-reference from this program's own directory, on a database in the child's {dir}, with the
 * fixture token in its environment (not on its command line): a new string, or NULL with *why (a
 * new string) when there is no such program. */
static char *embedded_command(const char *profile_path, const char *fixture_token, char **why)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    struct oms_buf b;
    oms_buf_init(&b, 0);
    oms_buf_printf(&b, "%s/oms-reference", exe);
    if (n <= 0 || access(oms_buf_str(&b), X_OK) != 0) {
        struct oms_buf w;
        oms_buf_init(&w, 0);
        oms_buf_printf(&w,
                       "the scenario kills the target (a crash step): the embedded reference runs "
                       "it as an oms-reference child process, and there is none beside "
                       "refund-harness (%s); use --target-cmd",
                       n > 0 ? oms_buf_str(&b) : "/proc/self/exe unreadable");
        *why = oms_buf_take(&w, NULL);
        oms_buf_cleanup(&b);
        return NULL;
    }
    char *quoted = sut_shell_quote(oms_buf_str(&b));
    oms_buf_cleanup(&b);
    oms_buf_init(&b, 0);
    if (fixture_token) {
        char *token = sut_shell_quote(fixture_token);
        oms_buf_printf(&b, "REFUND_FIXTURE_TOKEN=%s ", token);
        free(token);
    }
    oms_buf_printf(&b, "exec %s --port {port} --db {dir}/oms.db", quoted);
    free(quoted);
    if (profile_path) {
        quoted = sut_shell_quote(profile_path);
        oms_buf_printf(&b, " --profile %s", quoted);
        free(quoted);
    }
    return oms_buf_take(&b, NULL);
}

struct launch *launch_create(const struct launch_config *cfg)
{
    struct launch *l = OMS_NEW(struct launch);
    if (cfg->target_cmd) {
        l->command = oms_xstrdup(cfg->target_cmd);
        l->url = oms_xstrdup(cfg->url);
    } else if (cfg->embedded) {
        l->command = embedded_command(cfg->profile_path, cfg->fixture_token, &l->why);
    }
    return l;
}

void launch_destroy(struct launch *l)
{
    if (!l)
        return;
    sut_destroy(l->sut);
    target_destroy(l->target);
    free(l->command);
    free(l->why);
    free(l->url);
    free(l);
}

int launch_possible(const struct launch *l)
{
    return l->command != NULL;
}

const char *launch_why(const struct launch *l)
{
    return l->why;
}

/* Readiness through the target's own client: the fixture calls the scenarios make. */
static int probe_target(void *arg, struct oms_err *err)
{
    json_t *doc = NULL;
    int rc = target_capabilities(arg, &doc, err);
    json_decref(doc);
    return rc;
}

int launch_ready(struct launch *l, const struct target_config *receivers, struct oms_err *err)
{
    if (!l->command)
        return oms_err_set(err, OMS_E_UNSUPPORTED, NULL, 0, 0, NULL, "%s",
                           l->why ? l->why : "no target command");
    if (l->failed)
        return oms_err_set(err, OMS_E_ENV, NULL, 0, 0, NULL,
                           "the target command could not be started earlier in this run");
    if (!l->sut) {
        /* The harness starts the target, so it chooses the fixture token the target starts with
         * (--fixture-token, else $REFUND_FIXTURE_TOKEN, else a random one) and sends that one:
         * a target that makes up its own would refuse every fixture call. */
        int rc = oms_fixture_token_choose(receivers->fixture_token, l->token, sizeof(l->token),
                                          NULL, err);
        struct sut_config cfg = {.command = l->command, .url = l->url, .fixture_token = l->token};
        if (rc == 0)
            rc = sut_create(&cfg, &l->sut, err);
        if (rc != 0) {
            l->failed = 1;
            return rc;
        }
        struct target_config c = *receivers;
        c.oms_url = sut_url(l->sut);
        c.fixture_token = l->token;
        l->target = target_create(&c);
        sut_set_probe(l->sut, probe_target, l->target);
    }
    if (sut_running(l->sut))
        return 0;
    int rc = sut_starts(l->sut) ? sut_restart(l->sut, err) : sut_start(l->sut, err);
    if (rc != 0)
        l->failed = 1;
    return rc;
}

struct sut *launch_sut(struct launch *l)
{
    return l->sut;
}

struct target *launch_target(struct launch *l)
{
    return l->target;
}

char *launch_rerun(const char *file, const char *target_cmd, const char *target_url,
                   int strict_reference, int kills, uint64_t seed)
{
    char *base = repro_rerun(file, target_cmd ? NULL : target_url, strict_reference);
    if (!target_cmd && !kills)
        return base;
    struct oms_buf b;
    oms_buf_init(&b, 0);
    oms_buf_puts(&b, base);
    free(base);
    if (target_cmd) {
        oms_buf_puts(&b, " --target-cmd ");
        repro_quote(&b, target_cmd, strlen(target_cmd));
        if (target_url) {
            oms_buf_puts(&b, " --target ");
            repro_quote(&b, target_url, strlen(target_url));
        }
        oms_buf_puts(&b, " --token \"$TOKEN\"");
        if (strict_reference)
            oms_buf_puts(&b, " --strict-reference");
    }
    if (kills)
        oms_buf_printf(&b, " --seed %llu", (unsigned long long)seed);
    return oms_buf_take(&b, NULL);
}
