/* main: wires the command line, the settings and the supervisor together.
 * Everything that can be wrong with the input is found here, before
 * anything starts, and ends the process with EXIT_USAGE. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/jobclient.h"
#include "app/runner.h"
#include "app/service.h"
#include "app/zkpush.h"
#include "base/exitcode.h"
#include "base/log.h"
#include "config/cli.h"
#include "config/jobcli.h"
#include "config/role.h"
#include "config/settings.h"
#include "integrations/marathon.h"

#ifndef VERSION
#define VERSION "unknown"
#endif

static void print_help(void)
{
        printf("Usage: flink-supervisor [OPTIONS] [ROLE] [-Dkey=value ...]\n"
               "       flink-supervisor [OPTIONS] -- CMD [ARGS...]\n"
               "       flink-supervisor run-job|stop-job|list-jobs [OPTIONS]   (each with --help)\n"
               "\n"
               "Runs Apache Flink (or CMD) as a supervised child: reaps zombies, forwards\n"
               "signals, stops with a deadline, restarts with backoff.\n"
               "\n"
               "Roles: %s (default local, or FLINK_ROLE).\n"
               "\n"
               "Options:\n"
               "  -h, --help      print this help and exit\n"
               "  -V, --version   print the version and exit\n"
               "  --check         validate the command line, settings and Flink configuration,\n"
               "                  exit 0 or 2\n"
               "  --print-config  print the effective Flink configuration (secrets masked, each\n"
               "                  key with its source) and exit\n"
               "  --probe         ask the running supervisor's /health: exit 0 when healthy,\n"
               "                  1 otherwise (for Docker's HEALTHCHECK)\n"
               "  --zk-push FILE  validate a YAML config document and write it to\n"
               "                  FLINK_ZK_CONFIG_PATH in FLINK_ZK_QUORUM, then exit\n"
               "  -Dkey=value     a Flink setting (roles only)\n"
               "\n"
               "Flink: FLINK_HOME (default /opt/flink), FLINK_ROLE, FLINK_PROPERTIES,\n"
               "JOB_MANAGER_RPC_ADDRESS, and the Mesos/Marathon task environment.\n"
               "\n"
               "Settings (environment):\n",
               role_expected());
        settings_describe(stdout);
        printf("\n"
               "Exit status: the child's, or 128+N when it died of signal N; 2 bad usage\n"
               "or setting; 111 gave up after a crash loop; 112 no configuration from\n"
               "ZooKeeper within FLINK_ZK_TIMEOUT; 125 the supervisor failed; 126 the\n"
               "command could not be executed; 127 the command was not found.\n");
}

/* The descriptors above 2 that we were started with, sorted: children
 * get them as they would without us. Ours are opened later. */
static size_t inherited_fds(int *keep, size_t max)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *e;
        size_t n = 0;

        if (!d)
                return 0;
        while ((e = readdir(d)) && n < max) {
                long fd;
                if (settings_parse_long(e->d_name, 3, INT_MAX, &fd) == 0 && fd != dirfd(d))
                        keep[n++] = (int)fd;
        }
        closedir(d);
        for (size_t i = 1; i < n; i++)
                for (size_t k = i; k > 0 && keep[k - 1] > keep[k]; k--) {
                        int t = keep[k];
                        keep[k] = keep[k - 1];
                        keep[k - 1] = t;
                }
        return n;
}

/* Resolves the role when no command is given; returns 0 or EXIT_USAGE. */
static int pick_role(const struct cli *cli, enum role *ret)
{
        const char *name = cli->role_arg, *from = "the command line";

        if (!name) {
                name = getenv("FLINK_ROLE");
                from = "FLINK_ROLE";
        }
        if (!name || !*name) {
                name = "local";
                from = "the default";
        }
        if (role_parse(name, ret) < 0) {
                fprintf(stderr, "flink-supervisor: unknown role \"%.64s\" (from %s): expected %s\n", name,
                        from, role_expected());
                return EXIT_USAGE;
        }
        return 0;
}

/* The health endpoint's port for command mode and --probe; returns 0 or
 * EXIT_USAGE after one line on stderr. */
static int pick_health_port(const struct settings *set, uint16_t *ret)
{
        char err[256], hostname[256] = "";

        gethostname(hostname, sizeof hostname - 1);
        if (health_port(set->health_port, environ, hostname, ret, err, sizeof err) < 0) {
                fprintf(stderr, "flink-supervisor: %s\n", err);
                return EXIT_USAGE;
        }
        return 0;
}

static int supervise_command(const struct settings *set, char *const *cmd, const struct child_start *start)
{
        struct service svc;
        uint16_t port;
        char **envp;
        int r;

        if ((r = pick_health_port(set, &port)) != 0)
                return r;
        envp = settings_child_env(environ, NULL);
        r = service_open(&svc, set, start);
        if (r >= 0 && !envp)
                r = -ENOMEM;
        if (r >= 0)
                r = sup_add_child(svc.sup, "main", cmd, envp, NULL);
        if (r >= 0) {
                service_serve_health(&svc, port, NULL, NULL);
                service_register(&svc);
        }
        if (r < 0) {
                log_error("supervisor.setup_failed", LOG_STR("error", strerror(-r)));
                r = EXIT_SUPERVISOR_FAILED;
                goto out;
        }
        r = sup_run(svc.sup, true);
out:
        service_close(&svc);
        free(envp);
        return r;
}

static int run(struct cli *cli, const struct child_start *start)
{
        struct settings set;
        enum role role;
        int r;

        if (settings_load(&set, settings_getenv, NULL, settings_report_stderr, NULL) < 0)
                return EXIT_USAGE;
        log_setup((enum log_level)set.log_level, (enum log_format)set.log_format);
        if (set.marathon_url && set.marathon_app_id) {
                char err[256];
                if (marathon_check(set.marathon_url, set.marathon_app_id, err, sizeof err) < 0) {
                        fprintf(stderr, "flink-supervisor: %s\n", err);
                        return EXIT_USAGE;
                }
        }
        if (cli->action == CLI_ZK_PUSH)
                return zkpush_run(&set, cli->zk_push);
        if (cli->action == CLI_PROBE) {
                uint16_t port;
                if ((r = pick_health_port(&set, &port)) != 0)
                        return r;
                return port ? health_probe(port) : 1;
        }
        if (!cli->cmd) {
                if ((r = pick_role(cli, &role)) != 0)
                        return r;
                return runner_run(&set, cli, role, start);
        }
        if (cli->action == CLI_CHECK) {
                char path[PATH_MAX];
                if (child_resolve(cli->cmd[0], getenv("PATH"), NULL, path, sizeof path) < 0) {
                        fprintf(stderr, "flink-supervisor: command \"%.200s\" not found or not executable: expected a program in PATH or a path\n",
                                cli->cmd[0]);
                        return EXIT_USAGE;
                }
                printf("flink-supervisor: configuration ok\n");
                return 0;
        }
        return supervise_command(&set, cli->cmd, start);
}

int main(int argc, char **argv)
{
        int keep[64];
        char dir[PATH_MAX];
        const struct child_start start = { .keep = keep, .n_keep = inherited_fds(keep, sizeof keep / sizeof keep[0]),
                                         .dir = getcwd(dir, sizeof dir) };
        struct cli cli;
        char err[256];
        int r;

        /* The job-cluster commands are a client, not a supervisor. */
        if (argc > 1 && jobcli_is_command(argv[1]))
                return jobclient_main(argc - 1, argv + 1);
        r = cli_parse(&cli, argc, argv, err, sizeof err);
        if (r < 0) {
                fprintf(stderr, "flink-supervisor: %s\n", r == -ENOMEM ? "out of memory" : err);
                return EXIT_USAGE;
        }
        switch (cli.action) {
        case CLI_HELP:
                print_help();
                r = 0;
                break;
        case CLI_VERSION:
                printf("flink-supervisor %s\n", VERSION);
                r = 0;
                break;
        default:
                r = run(&cli, &start);
                break;
        }
        cli_free(&cli);
        return r;
}
