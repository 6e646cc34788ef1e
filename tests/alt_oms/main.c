/* alt-oms: a second OMS, built from the contract alone, that the bundled suite must pass.
 * Usage: alt-oms --port N [--profile FILE] [--bind ADDR]. Prints "alt-oms: listening on URL"
 * once it listens; SIGTERM or SIGINT stop it cleanly (exit 0). */
#include "alt_oms.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oms_alloc.h"
#include "oms_http_server.h"
#include "oms_log.h"

#ifndef ALT_OMS_DEFAULT_PROFILE
#error "ALT_OMS_DEFAULT_PROFILE must name the default profile"
#endif

#define MAX_REQUEST_BODY (64u * 1024 * 1024)

static const char usage[] = "usage: alt-oms --port N [--profile FILE] [--bind ADDR]\n";

struct options {
    unsigned port;
    const char *profile;
    const char *bind;
};

static int parse_options(int argc, char **argv, struct options *o)
{
    o->profile = ALT_OMS_DEFAULT_PROFILE;
    int have_port = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "alt-oms: %s: unknown option or missing value\n%s", a, usage);
            return 2;
        }
        const char *v = argv[++i];
        if (strcmp(a, "--port") == 0) {
            char *end = NULL;
            errno = 0;
            long port = strtol(v, &end, 10);
            if (!*v || *end || errno || port < 0 || port > 65535) {
                fprintf(stderr, "alt-oms: --port \"%s\": expected 0..65535\n", v);
                return 2;
            }
            o->port = (unsigned)port;
            have_port = 1;
        } else if (strcmp(a, "--profile") == 0) {
            o->profile = v;
        } else if (strcmp(a, "--bind") == 0) {
            o->bind = v;
        } else {
            fprintf(stderr, "alt-oms: %s: unknown option\n%s", a, usage);
            return 2;
        }
    }
    if (!have_port) {
        fprintf(stderr, "alt-oms: --port is required\n%s", usage);
        return 2;
    }
    return 0;
}

/* Routes a request: the command endpoint, the fixture protocol, or 404. */
static void route(void *ctx, const struct oms_http_request *req, struct oms_http_response *resp)
{
    struct alt_app *app = ctx;
    static const char prefix[] = "/api/v1/oms/packages/", suffix[] = "/command/";
    const char *path = req->path;
    if (strncmp(path, "/_fixture", 9) == 0 && (path[9] == '\0' || path[9] == '/')) {
        alt_fixture_handle(app, req, resp);
        return;
    }
    size_t n = strlen(path), pl = sizeof(prefix) - 1, sl = sizeof(suffix) - 1;
    if (n > pl + sl && strncmp(path, prefix, pl) == 0 && strcmp(path + n - sl, suffix) == 0) {
        char id[64];
        size_t idl = n - pl - sl;
        if (idl < sizeof(id) && !memchr(path + pl, '/', idl)) {
            memcpy(id, path + pl, idl);
            id[idl] = '\0';
            alt_command_handle(app, req, id, resp);
            return;
        }
    }
    alt_answer_error(resp, 404, "detail", "not found");
}

static int app_init(struct alt_app *app, const char *profile_file)
{
    struct oms_err err;
    oms_err_clear(&err);
    memset(app, 0, sizeof(*app));
    if (alt_profile_load_file(profile_file, &app->profile, &err) != 0) {
        char text[2048];
        fprintf(stderr, "alt-oms: %s\n", oms_err_format(&err, text, sizeof(text)));
        return OMS_E_INVAL;
    }
    app->base_profile = json_deep_copy(app->profile->doc);
    app->store = alt_store_create();
    pthread_mutex_init(&app->lock, NULL);
    app->outbox = alt_outbox_create(&app->lock);
    return 0;
}

static void app_cleanup(struct alt_app *app)
{
    alt_outbox_destroy(app->outbox);
    alt_store_destroy(app->store);
    alt_profile_destroy(app->profile);
    json_decref(app->base_profile);
    free(app->omnitron_url);
    free(app->omnitron_token);
    pthread_mutex_destroy(&app->lock);
}

int main(int argc, char **argv)
{
    struct options opt = {0};
    int rc = parse_options(argc, argv, &opt);
    if (rc != 0)
        return rc == 1 ? 0 : 2;

    /* Every thread started from here on inherits the mask; main alone takes the signals. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct alt_app app;
    if (app_init(&app, opt.profile) != 0)
        return 2;
    if (alt_outbox_start(app.outbox) != 0) {
        fprintf(stderr, "alt-oms: cannot start the delivery thread\n");
        app_cleanup(&app);
        return 3;
    }
    struct oms_http_server_config cfg = {
        .bind = opt.bind,
        .port = opt.port,
        .max_body = MAX_REQUEST_BODY,
        .threads = 0, /* a thread per connection: a drain may wait for minutes */
        .handler = route,
        .ctx = &app,
        .name = "alt-oms",
    };
    struct oms_http_server *server = NULL;
    struct oms_err err;
    oms_err_clear(&err);
    if (oms_http_server_start(&cfg, &server, &err) != 0) {
        char text[2048];
        fprintf(stderr, "alt-oms: %s\n", oms_err_format(&err, text, sizeof(text)));
        alt_outbox_shutdown(app.outbox);
        app_cleanup(&app);
        return 3;
    }
    printf("alt-oms: listening on %s\n", oms_http_server_url(server));
    fflush(stdout);

    int sig = 0;
    sigwait(&stop, &sig);
    oms_log(OMS_LOG_INFO, "alt-oms", "signal %d: stopping", sig);
    alt_outbox_shutdown(app.outbox); /* drains return, the delivery thread ends */
    oms_http_server_stop(server);
    app_cleanup(&app);
    return 0;
}
