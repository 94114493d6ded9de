/* main: wires the command line, the settings and the supervisor together.
 * Everything that can be wrong with the input is found here, before
 * anything starts, and ends the process with EXIT_USAGE. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "flinkconf.h"
#include "flinkhome.h"
#include "launch.h"
#include "log.h"
#include "role.h"
#include "settings.h"
#include "supervisor.h"
#include "user.h"

#ifndef VERSION
#define VERSION "unknown"
#endif

static const char *env_lookup(const char *name, void *data)
{
        (void)data;
        return getenv(name);
}

static void report_line(const char *message, void *data)
{
        (void)data;
        fprintf(stderr, "flink-supervisor: %s\n", message);
}

static void print_help(void)
{
        char table[2048];

        settings_describe(table, sizeof table);
        printf("Usage: flink-supervisor [OPTIONS] [ROLE] [-Dkey=value ...]\n"
               "       flink-supervisor [OPTIONS] -- CMD [ARGS...]\n"
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
               "  -Dkey=value     a Flink setting (roles only)\n"
               "\n"
               "Flink: FLINK_HOME (default /opt/flink), FLINK_ROLE, FLINK_PROPERTIES,\n"
               "JOB_MANAGER_RPC_ADDRESS, and the Mesos/Marathon task environment.\n"
               "\n"
               "Settings (environment):\n%s"
               "\n"
               "Exit status: the child's, or 128+N when it died of signal N; 2 bad usage\n"
               "or setting; 111 gave up after a crash loop; 125 the supervisor failed;\n"
               "126 the command could not be executed; 127 the command was not found.\n",
               role_expected(), table);
}

/* PATH lookup as execvp does it, for --check. */
static int command_resolvable(const char *name)
{
        char path[4096];
        const char *dirs = getenv("PATH");

        if (strchr(name, '/'))
                return access(name, X_OK) == 0;
        if (!dirs)
                dirs = "/usr/local/bin:/usr/bin:/bin";
        while (*dirs) {
                size_t len = strcspn(dirs, ":");
                snprintf(path, sizeof path, "%.*s/%s", (int)len, len ? dirs : ".", name);
                if (access(path, X_OK) == 0)
                        return 1;
                dirs += len + (dirs[len] == ':');
        }
        return 0;
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

static void config_warning(const char *message, void *data)
{
        (void)data;
        log_warn("config.warning", LOG_STR("message", message));
}

/* The container's memory limit from cgroup v2, else v1; 0 when unlimited. */
static uint64_t cgroup_memory_limit_mb(void)
{
        static const char *const files[] = { "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes" };
        for (size_t i = 0; i < 2; i++) {
                FILE *f = fopen(files[i], "re");
                unsigned long long bytes;
                int n;
                if (!f)
                        continue;
                n = fscanf(f, "%llu", &bytes);
                fclose(f);
                /* "max", or v1's "no limit" of nearly 2^63. */
                if (n == 1 && bytes < (1ull << 50))
                        return bytes >> 20;
                return 0;
        }
        return 0;
}

static int supervise(const struct settings *set, struct launch *plan, const struct child_creds *creds)
{
        struct sup sup;
        int r = sup_init(&sup, set);

        for (size_t i = 0; r >= 0 && i < plan->n; i++)
                r = sup_add_child(&sup, plan->names[i], plan->argv[i], plan->envp, creds);
        if (r < 0) {
                log_error("supervisor.setup_failed", LOG_STR("error", strerror(-r)));
                sup_close(&sup);
                return EXIT_SUPERVISOR_FAILED;
        }
        r = sup_run(&sup);
        sup_close(&sup);
        return r;
}

static int run_role(struct cli *cli, const struct settings *set, enum role role)
{
        const char *home = getenv("FLINK_HOME");
        struct flinkhome fh;
        struct flinkconf_input in = { .role = role };
        struct child_creds creds;
        struct launch plan = { 0 };
        struct conf conf;
        char err[768], hostname[256] = "", dir[512] = "";
        int r, have_creds = 0, code = EXIT_USAGE, own_dir = 0;

        conf_init(&conf);
        r = flinkhome_open(&fh, home && *home ? home : "/opt/flink", err, sizeof err);
        if (r < 0) {
                fprintf(stderr, "flink-supervisor: %s\n", err);
                return EXIT_USAGE;
        }
        gethostname(hostname, sizeof hostname - 1);
        in.file_name = fh.conf_path;
        in.file_text = fh.conf_text;
        in.file_len = fh.conf_len;
        in.file_legacy = fh.conf_legacy;
        in.jm_rpc_address = getenv("JOB_MANAGER_RPC_ADDRESS");
        in.properties = getenv("FLINK_PROPERTIES");
        in.defines = cli->defines;
        in.n_defines = cli->n_defines;
        in.mesos = (struct mesos_env){ .envp = environ, .hostname = hostname,
                                       .cgroup_limit_mb = cgroup_memory_limit_mb() };
        r = flinkconf_build(&conf, &in, config_warning, NULL, err, sizeof err);
        if (r == -EINVAL)
                fprintf(stderr, "flink-supervisor: %s\n", err);
        if (r < 0)
                goto out;
        if (cli->action == CLI_PRINT_CONFIG) {
                char *text;
                size_t len;
                if (confyaml_render(&conf, CONFYAML_MASK | CONFYAML_PROVENANCE, &text, &len) < 0)
                        goto out;
                fwrite(text, 1, len, stdout);
                free(text);
                code = 0;
                goto out;
        }
        r = user_resolve(set->user, &creds, err, sizeof err);
        if (r < 0) {
                fprintf(stderr, "flink-supervisor: %s\n", err);
                goto out;
        }
        have_creds = r == 1;
        if (cli->action == CLI_CHECK) {
                printf("flink-supervisor: configuration ok\n");
                code = 0;
                goto out;
        }
        if (!have_creds && geteuid() == 0)
                log_warn("user.root", LOG_STR("message", "no user \"flink\": Flink runs as root; set SUPERVISOR_USER"));
        if (have_creds && flinkhome_prepare_log_dir(&fh, getenv("FLINK_LOG_DIR"), creds.uid, creds.gid, err, sizeof err) < 0) {
                log_error("config.log_dir_failed", LOG_STR("error", err));
                code = EXIT_SUPERVISOR_FAILED;
                goto out;
        }
        own_dir = !set->conf_dir;
        if (set->conf_dir)
                snprintf(dir, sizeof dir, "%s", set->conf_dir);
        else
                snprintf(dir, sizeof dir, "/tmp/flink-conf.%d", (int)getpid());
        r = flinkhome_write_conf_dir(&fh, dir, &conf, have_creds ? creds.uid : (uid_t)-1,
                                     have_creds ? creds.gid : (gid_t)-1, err, sizeof err);
        if (r < 0) {
                log_error("config.write_failed", LOG_STR("error", err));
                code = EXIT_SUPERVISOR_FAILED;
                goto out;
        }
        log_info("config.written", LOG_STR("dir", dir), LOG_INT("keys", conf.n),
                 LOG_STR("role", role_name(role)), LOG_INT("flink_major", fh.major), LOG_INT("flink_minor", fh.minor));
        if (launch_plan(&plan, role, &fh, cli->role_args, cli->n_role_args, environ, dir) < 0) {
                code = EXIT_SUPERVISOR_FAILED;
                goto out;
        }
        code = supervise(set, &plan, have_creds ? &creds : NULL);
out:
        if (own_dir)
                flinkhome_remove_conf_dir(dir);
        launch_free(&plan);
        conf_free(&conf);
        flinkhome_close(&fh);
        return code;
}

static int run(struct cli *cli)
{
        struct settings set;
        struct launch plan = { 0 };
        enum role role;
        int r;

        if (settings_load(&set, env_lookup, NULL, report_line, NULL) < 0)
                return EXIT_USAGE;
        log_setup((enum log_level)set.log_level, (enum log_format)set.log_format);
        if (!cli->cmd) {
                if ((r = pick_role(cli, &role)) != 0)
                        return r;
                return run_role(cli, &set, role);
        }
        if (cli->action == CLI_CHECK) {
                if (!command_resolvable(cli->cmd[0])) {
                        fprintf(stderr, "flink-supervisor: command \"%.200s\" not found or not executable: expected a program in PATH or a path\n",
                                cli->cmd[0]);
                        return EXIT_USAGE;
                }
                printf("flink-supervisor: configuration ok\n");
                return 0;
        }
        plan.n = 1;
        plan.names[0] = "main";
        plan.argv[0] = cli->cmd;
        return supervise(&set, &plan, NULL);
}

int main(int argc, char **argv)
{
        struct cli cli;
        char err[256];
        int r;

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
                r = run(&cli);
                break;
        }
        cli_free(&cli);
        return r;
}
