/* test_sut: the harness's control of a target process (harness/sut.c) - oms-reference started
 * from a command template, killed with SIGKILL and restarted on the same port and database, its
 * temporary directory removed at the end; each way a start can fail, with the reason; a target
 * killed with the harness; and the job's launched target (harness/launch.c). */
#include "capture.h"
#include "support.h"

#include "oms_time.h"
#include "launch.h"
#include "sut.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *reference_command(void)
{
    return support_printf("%s/oms-reference --port {port} --db {dir}/oms.db", REFUND_BIN_DIR);
}

static long command_status(struct oms_http_client *c, const char *base, int package)
{
    struct oms_http_exchange x = {0};
    char body[96];
    snprintf(body, sizeof(body), "{\"package\": %d, \"transition\": 17}", package);
    long status = support_command(c, &x, base, package, body);
    oms_http_exchange_cleanup(&x);
    return status;
}

static void test_kill_and_restart_keep_port_and_data(void **state)
{
    (void)state;
    char *cmd = reference_command();
    struct sut_config cfg = {.command = cmd};
    struct sut *s = NULL;
    struct oms_err err = {0};
    assert_int_equal(sut_create(&cfg, &s, &err), 0);
    free(cmd);
    char *dir = strdup(sut_dir(s));
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", sut_port(s));
    assert_string_equal(sut_url(s), url);
    assert_non_null(strstr(sut_command(s), dir));
    assert_int_equal(sut_running(s), 0);

    char text[2048];
    if (sut_start(s, &err) != 0)
        fail_msg("%s", oms_err_format(&err, text, sizeof(text)));
    assert_int_equal(sut_running(s), 1);
    assert_int_equal(sut_starts(s), 1);
    assert_int_equal(sut_start(s, &err), OMS_E_EXIST);
    oms_err_clear(&err);

    struct oms_http_client *c = oms_http_client_create();
    support_load(c, url,
                 "{\"locations\": [{\"id\": 1, \"max_quota\": 5, \"quota\": 2}],"
                 " \"packages\": [{\"id\": 1, \"location\": 1, \"status\": \"Waiting\"},"
                 " {\"id\": 2, \"location\": 1, \"status\": \"Waiting\"}]}");
    assert_int_equal(command_status(c, url, 1), 204);

    /* SIGKILL: nothing answers on the port any more. */
    assert_int_equal(sut_kill(s, &err), 0);
    assert_int_equal(sut_running(s), 0);
    assert_int_not_equal(sut_probe_handshake(url, &err), 0);
    oms_err_clear(&err);
    assert_int_equal(sut_kill(s, &err), OMS_E_ENV);
    oms_err_clear(&err);

    /* Restarted on the same port and database: the committed transition is there. */
    if (sut_restart(s, &err) != 0)
        fail_msg("%s", oms_err_format(&err, text, sizeof(text)));
    assert_int_equal(sut_starts(s), 2);
    assert_string_equal(sut_url(s), url);
    json_t *st = support_get_state(c, url);
    json_t *pkgs = json_object_get(st, "packages");
    assert_int_equal(json_integer_value(json_object_get(support_find_id(pkgs, 1), "status")), 1100);
    assert_int_equal(json_integer_value(json_object_get(support_find_id(pkgs, 2), "status")), 100);
    json_decref(st);
    assert_int_equal(command_status(c, url, 2), 204);

    /* Restart while it runs kills it first. */
    if (sut_restart(s, &err) != 0)
        fail_msg("%s", oms_err_format(&err, text, sizeof(text)));
    assert_int_equal(sut_starts(s), 3);
    assert_int_equal(command_status(c, url, 2), 400);

    oms_http_client_destroy(c);
    sut_destroy(s);
    struct stat sb;
    assert_int_not_equal(stat(dir, &sb), 0); /* the temporary directory is gone */
    free(dir);
}

static void test_command_that_exits_is_reported_with_its_output(void **state)
{
    (void)state;
    struct sut_config cfg = {.command = "echo cannot start on {port} >&2; exit 3"};
    struct sut *s = NULL;
    struct oms_err err = {0};
    assert_int_equal(sut_create(&cfg, &s, &err), 0);
    assert_int_equal(sut_start(s, &err), OMS_E_ENV);
    assert_non_null(strstr(err.message, "exited with status 3"));
    char want[64];
    snprintf(want, sizeof(want), "cannot start on %u", sut_port(s));
    assert_non_null(strstr(err.message, want));
    assert_int_equal(sut_running(s), 0);
    sut_destroy(s);
}

static void test_target_that_never_answers_times_out_and_is_killed(void **state)
{
    (void)state;
    struct sut_config cfg = {.command = "echo $$ > {dir}/pid; exec sleep 60",
                             .ready_timeout_ms = 400};
    struct sut *s = NULL;
    struct oms_err err = {0};
    assert_int_equal(sut_create(&cfg, &s, &err), 0);
    int64_t t0 = oms_time_mono_ms();
    assert_int_equal(sut_start(s, &err), OMS_E_ENV);
    assert_true(oms_time_mono_ms() - t0 < 5000);
    assert_non_null(strstr(err.message, "did not answer the handshake"));
    char path[512];
    snprintf(path, sizeof(path), "%s/pid", sut_dir(s));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    long pid = 0;
    assert_int_equal(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    /* The sleep that took over the shell's pid is gone. */
    assert_int_equal(kill((pid_t)pid, 0), -1);
    assert_int_equal(errno, ESRCH);
    sut_destroy(s);
}

struct probe_file {
    const char *path;
    int calls;
};

/* Ready once the command has written its file. */
static int file_probe(void *arg, struct oms_err *err)
{
    struct probe_file *p = arg;
    p->calls++;
    struct stat sb;
    if (stat(p->path, &sb) == 0 && sb.st_size > 0)
        return 0;
    return oms_err_set(err, OMS_E_ENV, NULL, 0, 0, NULL, "no file yet");
}

static void test_port_dir_and_environment_reach_the_command(void **state)
{
    (void)state;
    struct sut_config cfg = {
        .command = "printf '%s %s %s %s' {port} {dir} \"$REFUND_TARGET_PORT\" "
                   "\"$REFUND_TARGET_DIR\" > {dir}/args.tmp && mv {dir}/args.tmp {dir}/args; "
                   "exec sleep 60",
        .url = "http://localhost:{port}/base",
    };
    struct sut *s = NULL;
    struct oms_err err = {0};
    assert_int_equal(sut_create(&cfg, &s, &err), 0);
    char path[512];
    snprintf(path, sizeof(path), "%s/args", sut_dir(s));
    struct probe_file pf = {.path = path};
    sut_set_probe(s, file_probe, &pf);
    char text[2048];
    if (sut_start(s, &err) != 0)
        fail_msg("%s", oms_err_format(&err, text, sizeof(text)));
    assert_true(pf.calls >= 1);
    char want[1024], got[1024] = "";
    snprintf(want, sizeof(want), "%u %s %u %s", sut_port(s), sut_dir(s), sut_port(s), sut_dir(s));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(got, sizeof(got), f));
    fclose(f);
    assert_string_equal(got, want);
    snprintf(want, sizeof(want), "http://localhost:%u/base", sut_port(s));
    assert_string_equal(sut_url(s), want);
    sut_destroy(s); /* SIGTERM ends the sleep */
}

/* A restart outlasts a target that exits at once (its port still taken, say), until the ready
 * timeout; a first start does not. */
static void test_restart_retries_a_target_that_exits_at_once(void **state)
{
    (void)state;
    struct sut_config cfg = {
        .command = "n=$(cat {dir}/n 2>/dev/null || echo 0); echo $((n + 1)) > {dir}/n; "
                   "[ $n -ge 2 ] || { echo 'busy port' >&2; exit 1; }; "
                   "echo up > {dir}/ready.tmp && mv {dir}/ready.tmp {dir}/ready; exec sleep 60",
        .ready_timeout_ms = 10000,
    };
    struct sut *s = NULL;
    struct oms_err err = {0};
    assert_int_equal(sut_create(&cfg, &s, &err), 0);
    char ready[512];
    snprintf(ready, sizeof(ready), "%s/ready", sut_dir(s));
    struct probe_file pf = {.path = ready};
    sut_set_probe(s, file_probe, &pf);
    assert_int_equal(sut_start(s, &err), OMS_E_ENV); /* the first start gives up at once */
    assert_non_null(strstr(err.message, "busy port"));
    assert_int_equal(sut_starts(s), 1);
    oms_err_clear(&err);
    char text[2048];
    if (sut_restart(s, &err) != 0)
        fail_msg("%s", oms_err_format(&err, text, sizeof(text)));
    assert_int_equal(sut_starts(s), 3); /* exited once more, then came up */
    assert_int_equal(sut_running(s), 1);
    sut_destroy(s);

    cfg.command = "echo 'Address already in use' >&2; exit 3";
    cfg.ready_timeout_ms = 1500;
    assert_int_equal(sut_create(&cfg, &s, &err), 0);
    int64_t t0 = oms_time_mono_ms();
    assert_int_equal(sut_restart(s, &err), OMS_E_ENV);
    assert_true(oms_time_mono_ms() - t0 < 5000);
    assert_true(sut_starts(s) >= 2);
    assert_non_null(strstr(err.message, "exited with status 3"));
    assert_non_null(strstr(err.message, "Address already in use"));
    assert_non_null(strstr(err.message, "TIME_WAIT"));
    sut_destroy(s);
}

/* 1 while pid runs (a zombie waiting for its parent to reap it does not). */
static int running(long pid)
{
    char path[64], stat[256] = "";
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(stat, 1, sizeof(stat) - 1, f);
    fclose(f);
    stat[n] = '\0';
    const char *close = strrchr(stat, ')');
    return close && close[1] == ' ' && close[2] != 'Z';
}

/* The target runs in a process group of its own, so a Ctrl-C at the terminal does not reach it:
 * the harness kills it when a termination signal ends the harness. */
static void test_termination_signal_kills_the_target(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_sut.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char pidfile[64], command[320];
    snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
    snprintf(command, sizeof(command), "echo $$ {dir} > %s.tmp && mv %s.tmp %s; exec sleep 60",
             pidfile, pidfile, pidfile);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct sut_config cfg = {.command = command};
        struct sut *s = NULL;
        struct probe_file pf = {.path = pidfile};
        if (sut_create(&cfg, &s, NULL) != 0)
            _exit(2);
        sut_set_probe(s, file_probe, &pf);
        if (sut_start(s, NULL) != 0)
            _exit(3);
        raise(SIGTERM);
        _exit(4); /* not reached: SIGTERM ends this process */
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGTERM);
    FILE *f = fopen(pidfile, "r");
    assert_non_null(f);
    long pid = 0;
    char data[512] = "";
    assert_int_equal(fscanf(f, "%ld %511s", &pid, data), 2);
    fclose(f);
    int64_t deadline = oms_time_mono_ms() + 5000;
    while (running(pid) && oms_time_mono_ms() < deadline)
        oms_time_sleep_ms(10);
    assert_false(running(pid));
    /* A signal handler cannot remove the target's directory: the killed harness leaves it. */
    char *slash = strrchr(data, '/');
    assert_non_null(slash);
    *slash = '\0';
    assert_true(capture_exists(data));
    capture_remove_tree(data);
    unlink(pidfile);
    rmdir(dir);
}

static void test_empty_command_is_refused(void **state)
{
    (void)state;
    struct sut_config cfg = {.command = "  "};
    struct sut *s = NULL;
    struct oms_err err = {0};
    assert_int_equal(sut_create(&cfg, &s, &err), OMS_E_INVAL);
    assert_null(s);
    assert_non_null(strstr(err.message, "--target-cmd"));
    sut_destroy(NULL);
}

/* The rerun line of a scenario on a launched target carries the command and, for a scenario that
 * kills its target, the run's seed. */
static void test_launch_rerun_lines(void **state)
{
    (void)state;
    char *r = launch_rerun("s/a.json", "srv --port {port}", NULL, 0, 1, 42);
    assert_string_equal(r, "refund-harness run s/a.json --verbose --target-cmd 'srv --port {port}' "
                           "--token \"$TOKEN\" --seed 42");
    free(r);
    r = launch_rerun("s/a.json", NULL, NULL, 0, 1, 7);
    assert_string_equal(r, "refund-harness run s/a.json --verbose --seed 7");
    free(r);
    r = launch_rerun("s/a.json", NULL, "http://h:1", 1, 0, 7);
    assert_string_equal(r, "refund-harness run s/a.json --verbose --target http://h:1 --token "
                           "\"$TOKEN\" --strict-reference");
    free(r);
}

/* Nothing to launch: --target alone. The embedded reference launches oms-reference from the
 * program's own directory (here the test's, build/bin, where it is built). */
static void test_launch_what_can_be_launched(void **state)
{
    (void)state;
    struct launch_config none = {0};
    struct launch *l = launch_create(&none);
    assert_false(launch_possible(l));
    assert_null(launch_why(l));
    struct target_config tc = {.omnitron_url = "http://127.0.0.1:1", .webhook_url = "http://x"};
    struct oms_err err = {0};
    assert_int_equal(launch_ready(l, &tc, &err), OMS_E_UNSUPPORTED);
    assert_null(launch_sut(l));
    launch_destroy(l);

    struct launch_config embedded = {.embedded = 1};
    l = launch_create(&embedded);
    assert_true(launch_possible(l));
    oms_err_clear(&err);
    char text[2048];
    if (launch_ready(l, &tc, &err) != 0)
        fail_msg("%s", oms_err_format(&err, text, sizeof(text)));
    assert_non_null(strstr(sut_command(launch_sut(l)), "/oms-reference' --port "));
    assert_string_equal(target_oms_url(launch_target(l)), sut_url(launch_sut(l)));
    assert_int_equal(sut_probe_handshake(sut_url(launch_sut(l)), &err), 0);
    /* A target that died is started again on the next call. */
    assert_int_equal(sut_kill(launch_sut(l), &err), 0);
    if (launch_ready(l, &tc, &err) != 0)
        fail_msg("%s", oms_err_format(&err, text, sizeof(text)));
    assert_int_equal(sut_starts(launch_sut(l)), 2);
    launch_destroy(l);

    struct launch_config broken = {.target_cmd = "exit 9"};
    l = launch_create(&broken);
    oms_err_clear(&err);
    assert_int_equal(launch_ready(l, &tc, &err), OMS_E_ENV);
    oms_err_clear(&err);
    assert_int_equal(launch_ready(l, &tc, &err), OMS_E_ENV); /* not retried */
    assert_non_null(strstr(err.message, "could not be started earlier"));
    launch_destroy(l);
}

static void test_shell_quote(void **state)
{
    (void)state;
    char *q = sut_shell_quote("/a b/it's");
    assert_string_equal(q, "'/a b/it'\\''s'");
    free(q);
    q = sut_shell_quote("");
    assert_string_equal(q, "''");
    free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_and_restart_keep_port_and_data),
        cmocka_unit_test(test_command_that_exits_is_reported_with_its_output),
        cmocka_unit_test(test_target_that_never_answers_times_out_and_is_killed),
        cmocka_unit_test(test_port_dir_and_environment_reach_the_command),
        cmocka_unit_test(test_restart_retries_a_target_that_exits_at_once),
        cmocka_unit_test(test_termination_signal_kills_the_target),
        cmocka_unit_test(test_empty_command_is_refused),
        cmocka_unit_test(test_launch_rerun_lines),
        cmocka_unit_test(test_launch_what_can_be_launched),
        cmocka_unit_test(test_shell_quote),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
