/* testchild: the programs the integration tests supervise.
 *
 *   exit CODE              exit with CODE
 *   kill SIGNO             die of signal SIGNO
 *   stamp FILE CODE        append CLOCK_MONOTONIC ms to FILE, exit CODE
 *   record FILE [ignore]   write "ready", then the number of each signal
 *                          received, one per line; exit 0 on TERM/INT
 *                          unless "ignore"
 *   recordall FILE         the same for every signal 1-31 that can be
 *                          caught but SIGCHLD (the faults, PIPE and the
 *                          terminal stops included)
 *   orphans N              leave N grandchildren orphaned; they exit once
 *                          orphaned; print "orphaned" and wait for TERM
 *   storm N                the benchmark's orphan storm, as the child of the
 *                          PID 1 under test in a new PID namespace: orphan N
 *                          grandchildren, release them all at once, print
 *                          "WALL_MS CPU_MS": the time until /proc shows
 *                          nobody but PID 1 and us, and the CPU time PID 1
 *                          (the reaper) used meanwhile
 *   group N FILE           N grandchildren in our group, all ignoring
 *                          TERM; write every pid to FILE; wait forever
 *   status FILE            copy SigBlk/SigIgn of /proc/self/status and the
 *                          open fds to FILE, then exit 0
 *   stdio                  copy a line of stdin to stdout, "err" to stderr */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int out_fd = -1;
static int ignore_term;

static void put_line(int fd, const char *s)
{
        ssize_t r = write(fd, s, strlen(s));
        (void)r;
}

static void on_signal(int signo)
{
        char buf[16];
        int n = 0, v = signo;
        char tmp[8];
        int k = 0;

        do {
                tmp[k++] = (char)('0' + v % 10);
                v /= 10;
        } while (v);
        while (k)
                buf[n++] = tmp[--k];
        buf[n++] = '\n';
        ssize_t r = write(out_fd, buf, (size_t)n);
        (void)r;
        if ((signo == SIGTERM || signo == SIGINT) && !ignore_term)
                _exit(0);
}

static int record(const char *file, int ignore, int all)
{
        static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGWINCH, SIGCONT, SIGALRM };
        struct sigaction sa = { .sa_handler = on_signal };

        ignore_term = ignore;
        out_fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (out_fd < 0)
                return 1;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
                sigaction(sigs[i], &sa, NULL);
        for (int signo = 1; all && signo < 32; signo++)
                if (signo != SIGKILL && signo != SIGSTOP && signo != SIGCHLD)
                        sigaction(signo, &sa, NULL);
        put_line(out_fd, "ready\n");
        for (;;)
                pause();
}

/* Forks a parent that forks n children and exits, so that they are
 * orphans of whoever reaps for us. They wait on a pipe: the write end is
 * returned, and closing it lets them all exit at once. -1 on failure. */
static int make_orphans(int n)
{
        int gate[2];
        pid_t mid;

        if (pipe(gate) < 0)
                return -1;
        mid = fork();
        if (mid == 0) {
                close(gate[1]);
                for (int i = 0; i < n; i++) {
                        if (fork() == 0) {
                                char c;
                                while (read(gate[0], &c, 1) > 0)
                                        ;
                                _exit(0);
                        }
                }
                _exit(0);
        }
        close(gate[0]);
        waitpid(mid, NULL, 0);
        return gate[1];
}

static int orphans(int n)
{
        int gate = make_orphans(n);

        if (gate < 0)
                return 1;
        close(gate);
        put_line(1, "orphaned\n");
        for (;;)
                pause();
}

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int count_processes(void)
{
        DIR *d = opendir("/proc");
        struct dirent *e;
        int n = 0;

        if (!d)
                return -1;
        while ((e = readdir(d)))
                if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
                        n++;
        closedir(d);
        return n;
}

/* Milliseconds PID 1 has spent on a CPU (schedstat's first field is ns). */
static double pid1_cpu_ms(void)
{
        FILE *f = fopen("/proc/1/schedstat", "r");
        unsigned long long ns = 0;

        if (!f)
                return -1;
        if (fscanf(f, "%llu", &ns) != 1)
                ns = 0;
        fclose(f);
        return (double)ns / 1e6;
}

static int storm(int n)
{
        struct timespec pause_1ms = { 0, 1000000 };
        int gate = make_orphans(n);

        if (gate < 0)
                return 1;
        while (count_processes() < n + 2)
                nanosleep(&pause_1ms, NULL);
        double cpu0 = pid1_cpu_ms(), t0 = now_ms();
        close(gate);
        while (count_processes() > 2)
                nanosleep(&pause_1ms, NULL);
        printf("%.1f %.2f\n", now_ms() - t0, pid1_cpu_ms() - cpu0);
        return 0;
}

static int group(int n, const char *file)
{
        FILE *f = fopen(file, "w");

        if (!f)
                return 1;
        signal(SIGTERM, SIG_IGN);
        for (int i = 0; i < n; i++) {
                pid_t pid = fork();
                if (pid == 0) {
                        for (;;)
                                pause();
                }
                fprintf(f, "%d\n", pid);
        }
        fprintf(f, "%d\n", getpid());
        fclose(f);
        for (;;)
                pause();
}

static int status(const char *file)
{
        char fds[512] = "fds:", line[256];
        size_t len = strlen(fds);
        DIR *d = opendir("/proc/self/fd");
        struct dirent *e;
        FILE *in, *out;

        /* Listed first, before this function opens anything itself. */
        if (!d)
                return 1;
        while ((e = readdir(d))) {
                size_t n = strlen(e->d_name);
                if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d) && len + n + 2 < sizeof fds) {
                        fds[len++] = ' ';
                        memcpy(fds + len, e->d_name, n + 1);
                        len += n;
                }
        }
        closedir(d);
        in = fopen("/proc/self/status", "r");
        out = fopen(file, "w");
        if (!in || !out)
                return 1;
        while (fgets(line, sizeof line, in))
                if (strncmp(line, "SigBlk:", 7) == 0 || strncmp(line, "SigIgn:", 7) == 0)
                        fputs(line, out);
        fclose(in);
        fprintf(out, "%s\n", fds);
        fclose(out);
        return 0;
}

static int stamp(const char *file, int code)
{
        struct timespec ts;
        FILE *f = fopen(file, "a");

        if (!f)
                return 1;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        fprintf(f, "%lld\n", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
        fclose(f);
        return code;
}

static int stdio_copy(void)
{
        char line[256];

        if (!fgets(line, sizeof line, stdin))
                return 1;
        fputs(line, stdout);
        fflush(stdout);
        fputs("err\n", stderr);
        return 0;
}

int main(int argc, char **argv)
{
        const char *cmd = argc > 1 ? argv[1] : "";

        if (strcmp(cmd, "exit") == 0 && argc == 3)
                return atoi(argv[2]);
        if (strcmp(cmd, "kill") == 0 && argc == 3) {
                int signo = atoi(argv[2]);
                signal(signo, SIG_DFL);
                sigset_t s;
                sigemptyset(&s);
                sigaddset(&s, signo);
                sigprocmask(SIG_UNBLOCK, &s, NULL);
                raise(signo);
                return 1;
        }
        if (strcmp(cmd, "stamp") == 0 && argc == 4)
                return stamp(argv[2], atoi(argv[3]));
        if (strcmp(cmd, "record") == 0 && (argc == 3 || argc == 4))
                return record(argv[2], argc == 4, 0);
        if (strcmp(cmd, "recordall") == 0 && argc == 3)
                return record(argv[2], 0, 1);
        if (strcmp(cmd, "orphans") == 0 && argc == 3)
                return orphans(atoi(argv[2]));
        if (strcmp(cmd, "storm") == 0 && argc == 3)
                return storm(atoi(argv[2]));
        if (strcmp(cmd, "group") == 0 && argc == 4)
                return group(atoi(argv[2]), argv[3]);
        if (strcmp(cmd, "status") == 0 && argc == 3)
                return status(argv[2]);
        if (strcmp(cmd, "stdio") == 0)
                return stdio_copy();
        fprintf(stderr, "testchild: unknown command line\n");
        return 64;
}
