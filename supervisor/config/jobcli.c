/* jobcli: see jobcli.h. */
#include "config/jobcli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "config/settings.h"

static const char *const commands[] = { "run-job", "stop-job", "list-jobs" };

/* The options each command takes, for the error that names them. */
static const char *const expected[] = {
        "--marathon URL, --id ID, --image IMAGE, --jar URI|PATH, --class NAME, --parallelism N, --from-savepoint PATH, "
        "--allow-non-restored-state, --detached, --timeout SECONDS, --jm-cpus N, --jm-mem MB, --env KEY=VALUE, "
        "-Dkey=value, --help, -- ARGS",
        "--marathon URL, --id ID, --savepoint DIR, --drain, --timeout SECONDS, --help",
        "--marathon URL, --timeout SECONDS, --help",
};

bool jobcli_is_command(const char *arg)
{
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
                if (strcmp(arg, commands[i]) == 0)
                        return true;
        return false;
}

bool jobcli_jar_is_uri(const char *jar)
{
        const char *sep = strstr(jar, "://");

        return sep && sep > jar && strspn(jar, "abcdefghijklmnopqrstuvwxyz0123456789+.-") == (size_t)(sep - jar);
}

static bool valid_segment(const char *s, size_t n)
{
        if (n == 0 || s[0] == '-' || s[n - 1] == '-' || s[0] == '.' || s[n - 1] == '.')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789-.", s[i]) || (s[i] == '.' && s[i + 1] == '.'))
                        return false;
        return true;
}

bool jobcli_valid_id(const char *id)
{
        const char *p = id + 1;

        if (id[0] != '/' || strlen(id) > 400)
                return false;
        for (;;) {
                const char *slash = strchr(p, '/');
                size_t n = slash ? (size_t)(slash - p) : strlen(p);
                if (!valid_segment(p, n))
                        return false;
                if (!slash)
                        return true;
                p = slash + 1;
        }
}

/* The value after option argv[*i]; advances *i. */
static int value_of(int argc, char **argv, int *i, const char **ret, char *err, size_t errlen)
{
        if (*i + 1 >= argc || argv[*i + 1][0] == '\0')
                return fmt_invalid(err, errlen, "missing value after %s: expected %s VALUE", argv[*i], argv[*i]);
        *ret = argv[++*i];
        return 0;
}

static int long_of(int argc, char **argv, int *i, long min, long max, long *ret, char *err, size_t errlen)
{
        const char *v = NULL;
        int r;

        if ((r = value_of(argc, argv, i, &v, err, errlen)) < 0)
                return r;
        if (settings_parse_long(v, min, max, ret) < 0) {
                return fmt_invalid(err, errlen, "invalid %s \"%.32s\": expected a whole number from %ld to %ld", argv[*i - 1], v,
                           min, max);
        }
        return 0;
}

static int cpus_of(int argc, char **argv, int *i, double *ret, char *err, size_t errlen)
{
        const char *v = NULL;
        char *end;
        int r;

        if ((r = value_of(argc, argv, i, &v, err, errlen)) < 0)
                return r;
        errno = 0;
        *ret = strtod(v, &end);
        if (errno || *end || end == v || !(*ret >= 0.01 && *ret <= 4096))
                return fmt_invalid(err, errlen, "invalid --jm-cpus \"%.32s\": expected a number of CPUs from 0.01 to 4096", v);
        return 0;
}

/* One option of the command at argv[*i]; returns 0, -EINVAL, or 1 when it is none of them. */
static int option(struct jobcli *c, int argc, char **argv, int *i, char *err, size_t errlen)
{
        const char *a = argv[*i];
        bool run = c->command == JOBCLI_RUN, stop = c->command == JOBCLI_STOP;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
                c->help = true;
        else if (strcmp(a, "--marathon") == 0)
                return value_of(argc, argv, i, &c->marathon, err, errlen);
        else if (strcmp(a, "--timeout") == 0)
                return long_of(argc, argv, i, 1, 86400, &c->timeout_s, err, errlen);
        else if ((run || stop) && strcmp(a, "--id") == 0)
                return value_of(argc, argv, i, &c->id, err, errlen);
        else if (stop && strcmp(a, "--savepoint") == 0)
                return value_of(argc, argv, i, &c->savepoint_dir, err, errlen);
        else if (stop && strcmp(a, "--drain") == 0)
                c->drain = true;
        else if (run && strcmp(a, "--image") == 0)
                return value_of(argc, argv, i, &c->image, err, errlen);
        else if (run && strcmp(a, "--jar") == 0)
                return value_of(argc, argv, i, &c->jar, err, errlen);
        else if (run && strcmp(a, "--class") == 0)
                return value_of(argc, argv, i, &c->klass, err, errlen);
        else if (run && strcmp(a, "--parallelism") == 0)
                return long_of(argc, argv, i, 1, 32768, &c->parallelism, err, errlen);
        else if (run && strcmp(a, "--from-savepoint") == 0)
                return value_of(argc, argv, i, &c->from_savepoint, err, errlen);
        else if (run && strcmp(a, "--allow-non-restored-state") == 0)
                c->allow_non_restored = true;
        else if (run && strcmp(a, "--detached") == 0)
                c->detached = true;
        else if (run && strcmp(a, "--jm-cpus") == 0)
                return cpus_of(argc, argv, i, &c->jm_cpus, err, errlen);
        else if (run && strcmp(a, "--jm-mem") == 0)
                return long_of(argc, argv, i, 256, 1L << 20, &c->jm_mem_mb, err, errlen);
        else if (run && strcmp(a, "--env") == 0) {
                const char *v;
                int r = value_of(argc, argv, i, &v, err, errlen);
                if (r < 0)
                        return r;
                if (!strchr(v, '=') || v[0] == '=')
                        return fmt_invalid(err, errlen, "invalid --env \"%.64s\": expected --env KEY=VALUE", v);
                c->env[c->n_env++] = argv[*i];
        } else if (run && strncmp(a, "-D", 2) == 0) {
                if (!strchr(a + 2, '=') || a[2] == '=')
                        return fmt_invalid(err, errlen, "invalid argument \"%.64s\": expected -Dkey=value", a);
                c->defines[c->n_defines++] = argv[*i];
        } else
                return 1;
        return 0;
}

static int check(const struct jobcli *c, char *err, size_t errlen)
{
        if (c->help || c->command == JOBCLI_LIST)
                return 0;
        if (!c->id)
                return fmt_invalid(err, errlen, "missing --id: expected --id /GROUP/NAME, the job cluster's Marathon group");
        if (!jobcli_valid_id(c->id) || strcmp(c->id, "/") == 0)
                return fmt_invalid(err, errlen, "invalid --id \"%.64s\": expected an absolute Marathon group id such as /jobs/wordcount "
                           "(lower-case letters, digits, '-' and '.')", c->id);
        if (c->command != JOBCLI_RUN)
                return 0;
        if (!c->jar && !c->klass)
                return fmt_invalid(err, errlen, "missing --jar and --class: expected --jar URI|PATH (the job's jar), --class NAME, or both");
        if (c->jar && !jobcli_jar_is_uri(c->jar) && c->jar[0] != '/')
                return fmt_invalid(err, errlen, "invalid --jar \"%.64s\": expected a URI Marathon can fetch (https://..., file://...) "
                           "or an absolute path in the image", c->jar);
        if (c->jar && jobcli_jar_is_uri(c->jar) && c->jar[strlen(c->jar) - 1] == '/')
                return fmt_invalid(err, errlen, "invalid --jar \"%.64s\": expected the URI of a jar file, not of a directory", c->jar);
        if (c->allow_non_restored && !c->from_savepoint)
                return fmt_invalid(err, errlen, "--allow-non-restored-state given without --from-savepoint: expected both, or neither");
        return 0;
}

int jobcli_parse(struct jobcli *ret, int argc, char **argv, char *err, size_t errlen)
{
        struct jobcli c = { .timeout_s = JOBCLI_DEFAULT_TIMEOUT_S, .image = JOBCLI_DEFAULT_IMAGE,
                            .jm_cpus = JOBCLI_DEFAULT_JM_CPUS, .jm_mem_mb = JOBCLI_DEFAULT_JM_MEM };
        int r = -EINVAL, i = 1;

        while (strcmp(argv[0], commands[c.command]) != 0)
                c.command++;
        c.defines = calloc((size_t)argc + 1, sizeof *c.defines);
        c.env = calloc((size_t)argc + 1, sizeof *c.env);
        if (!c.defines || !c.env) {
                r = -ENOMEM;
                goto fail;
        }
        for (; i < argc; i++) {
                if (strcmp(argv[i], "--") == 0 && c.command == JOBCLI_RUN) {
                        c.job_args = &argv[i + 1];
                        c.n_job_args = (size_t)(argc - i - 1);
                        break;
                }
                if ((r = option(&c, argc, argv, &i, err, errlen)) < 0)
                        goto fail;
                if (r == 1) {
                        r = fmt_invalid(err, errlen, "unknown option \"%.64s\": expected %s", argv[i], expected[c.command]);
                        goto fail;
                }
        }
        if ((r = check(&c, err, errlen)) < 0)
                goto fail;
        *ret = c;
        return 0;
fail:
        jobcli_free(&c);
        return r;
}

void jobcli_free(struct jobcli *c)
{
        free(c->defines);
        free(c->env);
        c->defines = NULL;
        c->env = NULL;
}
